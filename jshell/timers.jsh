// Timers, immediates and nextTick on one loop: run() returns when nothing is left.
var loop = EventLoop.create();
loop.setTimeout(Duration.ofMillis(20), () -> System.out.println("timeout after 20 ms"));
var ticks = new int[1];
var every = loop.setInterval(Duration.ofMillis(5), () -> ticks[0]++);
loop.setTimeout(Duration.ofMillis(40), () -> { every.cancel(); System.out.println("interval ran " + (ticks[0] >= 3 ? "at least 3 times" : ticks[0] + " times")); });
loop.setImmediate(() -> System.out.println("immediate"));
loop.run();
loop.close();
System.out.println("done");
/exit

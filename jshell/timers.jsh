// Timers and immediates on one loop: run() returns when nothing is left.
var loop = EventLoop.create();
loop.setTimeout(Duration.ofMillis(20), () -> System.out.println("timeout after 20 ms"));
var ticks = new int[1];
var every = new Timer[1];
every[0] = loop.setInterval(Duration.ofMillis(5), () -> { if (++ticks[0] == 3) { every[0].cancel(); System.out.println("interval ran 3 times, then cancelled itself"); } });
loop.setImmediate(() -> System.out.println("immediate"));
loop.run();
loop.close();
System.out.println("done");
/exit

// An echo server and a client on the same loop.
var loop = EventLoop.create();
var server = loop.listen(new InetSocketAddress("127.0.0.1", 0), conn -> conn.startReading((c, data) -> c.write(data)));
loop.connect(server.localAddress(), Duration.ofSeconds(5), (conn, err) -> {
    if (err != null) { System.out.println("connect failed: " + err); server.close(); return; }
    conn.startReading((c, data) -> {
        System.out.println("echoed: " + data.toString(StandardCharsets.UTF_8));
        data.release();
        c.close();
        server.close();
    });
    conn.write("hello, panamio".getBytes(StandardCharsets.UTF_8));
});
loop.run();
System.out.println("native bytes in use before close: " + (loop.stats().nativeBytes() > 0));
loop.close();
System.out.println("native bytes after close: " + loop.stats().nativeBytes());
/exit

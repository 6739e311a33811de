// The high watermark in action: a writer to a peer that never reads stops at the write watermark,
// and the loop never lends the kernel more than highWatermark buffers.
var loop = EventLoop.builder().highWatermark(4).bufferSize(4096).writeTimeout(Timeout.NONE).build();
var accepted = new java.util.ArrayList<TcpConnection>();
var server = loop.listen(new InetSocketAddress("127.0.0.1", 0), accepted::add); // never reads
loop.connect(server.localAddress(), Duration.ofSeconds(5), (conn, err) -> {
    var chunk = new byte[4096];
    int writes = 0;
    while (conn.isWritable()) { conn.write(chunk, null); writes++; }
    System.out.println("unwritable after " + writes + " writes; queued " + conn.queuedBytes() + " bytes");
    loop.setTimeout(Duration.ofMillis(100), () -> {
        var s = loop.stats();
        System.out.println("lent bytes within the watermark: " + (s.lentBytes() <= 4 * 4096));
        conn.abort();
        accepted.forEach(TcpConnection::abort);
        server.close();
    });
});
loop.run();
loop.close();
/exit

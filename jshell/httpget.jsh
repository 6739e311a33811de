// An HTTP server and an HTTP GET on the same loop.
var loop = EventLoop.create();
var server = HttpServer.listen(loop, new InetSocketAddress("127.0.0.1", 0), (req, res) -> res.send("Hello from panamio, you asked for " + req.target()));
var uri = URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/greeting");
HttpClient.get(loop, uri, Duration.ofSeconds(5), (res, err) -> {
    System.out.println(err != null ? "failed: " + err : "status " + res.status() + ": " + res.bodyText());
    server.close();
});
loop.run();
loop.close();
/exit

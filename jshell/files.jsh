// Files as loop callbacks: natively through io_uring when the loop runs on it, else on the blocking pool.
var loop = EventLoop.create();
var file = java.nio.file.Files.createTempFile("panamio", ".txt");
loop.files().writeFile(file, "written and read back by the loop".getBytes(StandardCharsets.UTF_8), (v, err) ->
    loop.files().readFile(file, (bytes, err2) -> System.out.println("native " + loop.files().isNative() + ": " + new String(bytes, StandardCharsets.UTF_8))));
loop.run();
loop.close();
java.nio.file.Files.delete(file);
/exit

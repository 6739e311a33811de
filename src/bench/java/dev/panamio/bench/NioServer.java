package dev.panamio.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/** The JDK NIO peer: one Selector thread, direct buffers, the same job. */
final class NioServer {
    private NioServer() {}

    private static final int BATCH = 64;

    static Thread start(int port, boolean http) throws Exception {
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        ByteBuffer responses = ByteBuffer.allocateDirect(BenchServer.RESPONSE.length * BATCH);
        for (int i = 0; i < BATCH; i++) {
            responses.put(BenchServer.RESPONSE);
        }
        responses.flip();
        Thread t = new Thread(() -> run(selector, server, http, responses), "nio-loop");
        t.start();
        return t;
    }

    /** Per connection: read buffer, pending output, request splitter. */
    private static final class Conn {
        final ByteBuffer in = ByteBuffer.allocateDirect(16384);
        ByteBuffer out = ByteBuffer.allocateDirect(16384);
        final BenchServer.Requests requests = new BenchServer.Requests();
    }

    private static void run(Selector selector, ServerSocketChannel server, boolean http, ByteBuffer responses) {
        try {
            while (true) {
                selector.select();
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (!k.isValid()) {
                        continue;
                    }
                    if (k.isAcceptable()) {
                        SocketChannel c;
                        while ((c = server.accept()) != null) {
                            c.configureBlocking(false);
                            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            c.register(selector, SelectionKey.OP_READ, new Conn());
                        }
                        continue;
                    }
                    SocketChannel ch = (SocketChannel) k.channel();
                    Conn c = (Conn) k.attachment();
                    try {
                        if (k.isWritable()) {
                            c.out.flip();
                            ch.write(c.out);
                            c.out.compact();
                            if (c.out.position() == 0) {
                                k.interestOps(SelectionKey.OP_READ);
                            }
                        }
                        if (k.isReadable()) {
                            int n = ch.read(c.in);
                            if (n < 0) {
                                k.cancel();
                                ch.close();
                                continue;
                            }
                            c.in.flip();
                            if (http) {
                                int reqs = 0;
                                while (c.in.hasRemaining()) {
                                    if (c.requests.feed(c.in.get())) {
                                        reqs++;
                                    }
                                }
                                c.in.clear();
                                while (reqs > 0) {
                                    int b = Math.min(reqs, BATCH);
                                    append(c, responses.duplicate().limit(b * BenchServer.RESPONSE.length));
                                    reqs -= b;
                                }
                            } else {
                                append(c, c.in);
                                c.in.clear();
                            }
                            c.out.flip();
                            ch.write(c.out);
                            c.out.compact();
                            if (c.out.position() > 0) {
                                k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                            }
                        }
                    } catch (java.io.IOException e) {
                        k.cancel();
                        ch.close();
                    }
                }
            }
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    private static void append(Conn c, ByteBuffer src) {
        if (c.out.remaining() < src.remaining()) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(c.out.capacity() * 2, c.out.position() + src.remaining()));
            c.out.flip();
            bigger.put(c.out);
            c.out = bigger;
        }
        c.out.put(src);
    }
}

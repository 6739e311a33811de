package dev.panamio.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** The Netty 4.2 peers: native epoll or io_uring transport, one event loop, raw handlers, flush per batch. */
final class NettyServer {
    private NettyServer() {}

    private static final int BATCH = 64;
    private static final ByteBuf RESPONSES;

    static {
        ByteBuf b = Unpooled.directBuffer(BenchServer.RESPONSE.length * BATCH);
        for (int i = 0; i < BATCH; i++) {
            b.writeBytes(BenchServer.RESPONSE);
        }
        RESPONSES = Unpooled.unreleasableBuffer(b);
    }

    static Thread start(boolean uring, int port, boolean http) throws Exception {
        IoHandlerFactory factory = uring ? IoUringIoHandler.newFactory() : EpollIoHandler.newFactory();
        Class<? extends ServerChannel> channel = uring ? IoUringServerSocketChannel.class : EpollServerSocketChannel.class;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, factory);
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        group.execute(() -> thread.complete(Thread.currentThread()));
        new ServerBootstrap().group(group).channel(channel)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(http ? new Http() : new Echo());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync();
        return thread.get();
    }

    @ChannelHandler.Sharable
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    static final class Http extends ChannelInboundHandlerAdapter {
        private final BenchServer.Requests requests = new BenchServer.Requests();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            int n = 0;
            for (int i = in.readerIndex(), end = in.writerIndex(); i < end; i++) {
                if (requests.feed(in.getByte(i))) {
                    n++;
                }
            }
            in.release();
            while (n > 0) {
                int k = Math.min(n, BATCH);
                ctx.write(RESPONSES.retainedSlice(0, k * BenchServer.RESPONSE.length), ctx.voidPromise());
                n -= k;
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}

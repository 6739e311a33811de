package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reliability scenario 3: a server at its descriptor limit. The server runs in a child JVM started under
 * {@code ulimit -n}; more clients connect than it can hold. Accepting hits EMFILE and backs off without
 * spinning (CPU over a 2 s window, measured from /proc), existing connections keep working, and accepting
 * resumes once descriptors are freed.
 */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class EmfileTest {
    private static final int LIMIT = 256;
    private static final int CLIENTS = 400;

    @ParameterizedTest
    @ValueSource(strings = {"EPOLL", "IO_URING"})
    void acceptAtTheDescriptorLimitBacksOffAndResumes(String backend) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "ulimit -n " + LIMIT + " && exec \"$@\"", "panamio-emfile",
                java, "--enable-native-access=ALL-UNNAMED", "-XX:+ErrorFileToStdout", "-Xmx64m",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                EmfileChild.class.getName(), backend);
        pb.redirectErrorStream(true);
        Process child = pb.start();
        List<String> output = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                    if (line.startsWith("port ")) {
                        port.complete(Integer.parseInt(line.substring(5).trim()));
                    }
                }
            } catch (Exception e) {
                port.completeExceptionally(e);
            }
            port.completeExceptionally(new AssertionError("child exited: " + output));
        });
        reader.start();
        List<SocketChannel> clients = new ArrayList<>();
        try (Selector selector = Selector.open()) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(),
                    port.get(TestTimes.patience().toSeconds(), TimeUnit.SECONDS));
            for (int i = 0; i < CLIENTS; i++) {
                SocketChannel ch = SocketChannel.open(address);
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, i);
                ch.write(ByteBuffer.wrap(new byte[] {'a'}));
                clients.add(ch);
            }
            // Echoes come back from the connections the server could accept; the rest wait in its backlog.
            Set<Integer> echoed = new HashSet<>();
            collectEchoes(selector, echoed, 2_000, CLIENTS);
            int accepted = echoed.size();
            assertThat(accepted).as("connections served before the limit").isGreaterThan(0).isLessThan(CLIENTS);

            // At the limit: the server's CPU over 2 s stays small (it backs off instead of spinning).
            long cpu0 = cpuTicks(child.pid());
            Thread.sleep(2_000);
            long cpuMillis = (cpuTicks(child.pid()) - cpu0) * 1000 / 100;

            // Existing connections keep working.
            int probe = echoed.iterator().next();
            clients.get(probe).write(ByteBuffer.wrap(new byte[] {'b'}));
            Set<Integer> again = new HashSet<>();
            collectEchoes(selector, again, TestTimes.patience().toMillis(), 1);
            assertThat(again).containsExactly(probe);

            // Free descriptors: the server resumes accepting and serves every waiting client.
            for (int i : echoed) {
                clients.get(i).close();
            }
            Set<Integer> late = new HashSet<>();
            collectEchoes(selector, late, TestTimes.patience().toMillis(), CLIENTS - accepted);
            System.out.printf("[reliability] %s EMFILE: limit %d fds, %d clients; %d served before the limit,"
                            + " server CPU at the limit %d ms over 2 s; %d served after freeing descriptors%n",
                    backend.toLowerCase(), LIMIT, CLIENTS, accepted, cpuMillis, late.size());
            assertThat(cpuMillis).as("CPU ms over 2 s while at EMFILE").isLessThan(500);
            assertThat(late).hasSize(CLIENTS - accepted);
        } finally {
            for (SocketChannel ch : clients) {
                ch.close();
            }
            child.getOutputStream().close();
            boolean exited = child.waitFor(TestTimes.patience().toSeconds(), TimeUnit.SECONDS);
            if (!exited) {
                child.destroyForcibly();
            }
            reader.join(TestTimes.patience().toMillis());
            assertThat(exited).as("child exited; output: " + output).isTrue();
        }
        assertThat(child.exitValue()).as("child exit; output: " + output).isZero();
        assertThat(output).as("child output").contains("closed").noneMatch(l -> l.contains("fatal error") || l.contains("hs_err"));
    }

    /** Reads single-byte echoes until {@code want} channels answered or {@code quietMillis} pass without news. */
    private static void collectEchoes(Selector selector, Set<Integer> echoed, long quietMillis, int want) throws Exception {
        ByteBuffer buf = ByteBuffer.allocate(64);
        long deadline = System.nanoTime() + quietMillis * 1_000_000;
        while (echoed.size() < want && System.nanoTime() < deadline) {
            selector.select(100);
            for (SelectionKey k : selector.selectedKeys()) {
                SocketChannel ch = (SocketChannel) k.channel();
                int n = ch.read(buf.clear());
                if (n > 0 && echoed.add((Integer) k.attachment())) {
                    deadline = System.nanoTime() + quietMillis * 1_000_000;
                } else if (n < 0) {
                    k.cancel();
                }
            }
            selector.selectedKeys().clear();
        }
    }

    /** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}

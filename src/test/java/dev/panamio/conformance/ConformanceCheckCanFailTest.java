package dev.panamio.conformance;

import dev.panamio.sys.linux.EpollEvents;
import dev.panamio.sys.linux.ffi.linux_h;
import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

/** The conformance check is able to fail: deliberately wrong bindings are rejected, naming the symbol. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class ConformanceCheckCanFailTest {

    @Test
    void aWrongFieldOffsetIsRejected() throws Exception {
        // sin_port moved from offset 2 to 4 (as if sin_family were declared an int).
        GroupLayout wrong = MemoryLayout.structLayout(
                ValueLayout.JAVA_INT.withName("sin_family"),
                ValueLayout.JAVA_SHORT.withName("sin_port"),
                MemoryLayout.paddingLayout(2),
                MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("s_addr")).withName("sin_addr"),
                MemoryLayout.sequenceLayout(4, ValueLayout.JAVA_BYTE).withName("sin_zero")).withName("sockaddr_in");
        String source = CConformance.linux().withLayout("sockaddr_in", wrong)
                .withLayout("epoll_event", EpollEvents.layoutFor("amd64")).emit();
        CConformance.Result r = CConformance.compile("gcc", "wrong-layout", source);
        assertThat(r.ok()).isFalse();
        assertThat(CConformance.failedAssertions(r))
                .contains("sockaddr_in.sin_port offset 4", "sockaddr_in.sin_family size 4", "sockaddr_in.sin_addr offset 8");
    }

    @Test
    void thePackedEpollEventOnAarch64IsRejected() throws Exception {
        // The x86-64 (packed) layout is wrong on aarch64: data is at 8 there, and the struct is 16 bytes.
        String source = CConformance.linux().withLayout("epoll_event", EpollEvents.layoutFor("amd64")).emit();
        CConformance.Result r = CConformance.compile("aarch64-linux-gnu-gcc", "wrong-aarch64", source);
        assertThat(r.ok()).isFalse();
        assertThat(CConformance.failedAssertions(r)).contains("epoll_event size 12", "epoll_event.data offset 4");
    }

    @Test
    void aWrongConstantIsRejected() throws Exception {
        String source = CConformance.linux().withLayout("epoll_event", EpollEvents.layoutFor("amd64"))
                .withExtraAssert(CConformance.constantAssertion("EPOLLOUT", linux_h.EPOLLOUT() + 1))
                .withExtraAssert(CConformance.constantAssertion("ECONNREFUSED", 110)).emit();
        CConformance.Result r = CConformance.compile("gcc", "wrong-constant", source);
        assertThat(CConformance.failedAssertions(r)).containsExactlyInAnyOrder("constant EPOLLOUT = 5", "constant ECONNREFUSED = 110");
    }

    @Test
    void aWrongSignatureIsRejected() throws Exception {
        CConformance.Prototype wrong = CConformance.parse("epoll_wait",
                "int epoll_wait(int __epfd, struct epoll_event *__events, int __maxevents, long __timeout)");
        CConformance.Prototype alsoWrong = CConformance.parse("recv",
                "int recv(int __fd, void *__buf, size_t __n, int __flags)");
        String source = CConformance.linux().withLayout("epoll_event", EpollEvents.layoutFor("amd64"))
                .withExtraAssert(CConformance.functionAssertion(wrong))
                .withExtraAssert(CConformance.functionAssertion(alsoWrong)).emit();
        CConformance.Result r = CConformance.compile("gcc", "wrong-signature", source);
        assertThat(CConformance.failedAssertions(r)).hasSize(2)
                .anySatisfy(m -> assertThat(m).startsWith("function epoll_wait:").contains("long __timeout"))
                .anySatisfy(m -> assertThat(m).startsWith("function recv:"));
    }
}

package dev.panamio.sys.linux.uring;

import dev.panamio.core.LoopCore;
import dev.panamio.sys.Op;
import dev.panamio.sys.linux.ffi.msghdr;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A gather write as {@code IORING_OP_SENDMSG} (sendmsg honours {@code MSG_NOSIGNAL}; writev cannot): the
 * iovecs go in the op's gather array and the {@code msghdr} in the 64 bytes the core reserves after it, so
 * both stay valid, unmoved, until the op's CQE.
 */
final class Gather {
    private Gather() {}

    /** Fills the op's iovecs and msghdr; returns the msghdr's address. */
    static long prepare(Op op) {
        MemorySegment iov = op.iov;
        for (int i = 0; i < op.iovCount; i++) {
            iov.set(ValueLayout.JAVA_LONG, i * 16L, op.gatherSegments[i].address() + op.gatherOffsets[i]);
            iov.set(ValueLayout.JAVA_LONG, i * 16L + 8, op.gatherLengths[i]);
        }
        MemorySegment hdr = iov.asSlice(LoopCore.GATHER_HEADER_OFFSET, msghdr.sizeof());
        hdr.fill((byte) 0);
        msghdr.msg_iov(hdr, iov);
        msghdr.msg_iovlen(hdr, op.iovCount);
        return hdr.address();
    }
}

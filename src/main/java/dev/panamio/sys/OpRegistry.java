package dev.panamio.sys;

import java.util.Arrays;

/**
 * Maps the 64-bit tokens a kernel hands back (io_uring {@code user_data}, epoll {@code data.u64}) to ops.
 *
 * <p>A token is {@code generation << 32 | slot}. A slot is reused after its op is unregistered, with the
 * generation bumped, so a stale token can never resolve to the slot's next op. Registration is per op
 * object (ops are reused across submissions), so the steady-state path allocates nothing. Loop thread only.
 */
public final class OpRegistry {
    private Op[] ops = new Op[256];
    private int[] generations = new int[256];
    private int[] freeSlots = new int[256];
    private int freeCount;
    private int used;
    private int live;

    /** Assigns {@code op} a token. */
    public void register(Op op) {
        int slot;
        if (freeCount > 0) {
            slot = freeSlots[--freeCount];
        } else {
            if (used == ops.length) {
                ops = Arrays.copyOf(ops, used * 2);
                generations = Arrays.copyOf(generations, used * 2);
                freeSlots = Arrays.copyOf(freeSlots, used * 2);
            }
            slot = used++;
        }
        ops[slot] = op;
        op.token = ((long) generations[slot] << 32) | slot;
        live++;
    }

    /** Frees {@code op}'s slot; its token stops resolving. */
    public void unregister(Op op) {
        int slot = (int) op.token;
        if (slot < 0 || slot >= used || ops[slot] != op) {
            return;
        }
        ops[slot] = null;
        generations[slot]++;
        freeSlots[freeCount++] = slot;
        live--;
        op.token = -1;
    }

    /** The op for {@code token}, or {@code null} when the token is stale or unknown. */
    public Op get(long token) {
        int slot = (int) token;
        if (slot < 0 || slot >= used) {
            return null;
        }
        Op op = ops[slot];
        return op != null && generations[slot] == (int) (token >>> 32) ? op : null;
    }

    /** Number of registered ops. */
    public int size() {
        return live;
    }
}

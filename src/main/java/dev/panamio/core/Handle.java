package dev.panamio.core;

/**
 * A long-lived object of the loop (a server, a connection), as opposed to an op, which is one operation.
 * Open handles are listed so that closing the loop can close each of them.
 */
public abstract class Handle {
    Handle prevHandle;
    Handle nextHandle;
    boolean listed;

    /**
     * The loop is closing: cancel every op, fail every outstanding callback with a ClosedException once its
     * op's completion has arrived, and leave the list when done. Called repeatedly until the handle has
     * left the list; must be idempotent.
     */
    protected abstract void closeForShutdown();
}

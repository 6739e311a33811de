package dev.panamio.testing;

import dev.panamio.core.NativeMemory;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class whose loops did not give every native byte back: the process-wide count of bytes held
 * by panamio loops must return to its value before the class (waits up to 10 s for loops closing on other
 * threads).
 */
public final class NativeLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NativeLeakCheck.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("bytes", NativeMemory.processBytes());
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        long before = context.getStore(NS).get("bytes", Long.class);
        long deadline = System.nanoTime() + 10_000_000_000L;
        long now;
        while ((now = NativeMemory.processBytes()) != before && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (now != before) {
            throw new AssertionError("native memory leak in " + context.getDisplayName() + ": " + (now - before)
                    + " bytes still held by panamio loops (before: " + before + ", after: " + now + ")");
        }
    }
}

package dev.panamio;

import org.junit.jupiter.api.AfterEach;

import java.util.ArrayList;
import java.util.List;

/** A suite that runs on one backend, given by the subclass; loops it starts are closed after each test. */
abstract class BackendSuite {
    private final List<EventLoop> loops = new ArrayList<>();

    abstract Backend backend();

    EventLoop.Builder builder() {
        return EventLoop.builder().backend(backend());
    }

    /** Builds {@code b} on this suite's backend and starts it; closed after the test. */
    EventLoop started(EventLoop.Builder b) {
        EventLoop loop = b.backend(backend()).build().start();
        loops.add(loop);
        return loop;
    }

    @AfterEach
    void closeLoops() {
        for (EventLoop l : loops) {
            l.close();
        }
        loops.clear();
    }
}

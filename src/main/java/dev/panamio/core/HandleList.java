package dev.panamio.core;

import java.util.ArrayList;
import java.util.List;

/** The loop's open handles, an intrusive doubly-linked list. Loop thread only. */
public final class HandleList {
    private Handle head;
    private int size;

    public void add(Handle h) {
        if (h.listed) {
            return;
        }
        h.listed = true;
        h.prevHandle = null;
        h.nextHandle = head;
        if (head != null) {
            head.prevHandle = h;
        }
        head = h;
        size++;
    }

    public void remove(Handle h) {
        if (!h.listed) {
            return;
        }
        h.listed = false;
        if (h.prevHandle == null) {
            head = h.nextHandle;
        } else {
            h.prevHandle.nextHandle = h.nextHandle;
        }
        if (h.nextHandle != null) {
            h.nextHandle.prevHandle = h.prevHandle;
        }
        h.prevHandle = h.nextHandle = null;
        size--;
    }

    public int size() {
        return size;
    }

    void closeAllForShutdown() {
        List<Handle> snapshot = new ArrayList<>(size);
        for (Handle h = head; h != null; h = h.nextHandle) {
            snapshot.add(h);
        }
        for (Handle h : snapshot) {
            h.closeForShutdown();
        }
    }
}

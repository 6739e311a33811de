package dev.panamio;

import dev.panamio.core.LoopCore;
import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.PlatformErrors;

/** Turns a backend's {@code -code} results into the exceptions users see. */
final class IoErrors {
    private IoErrors() {}

    static NativeIoException exception(LoopCore core, String call, long result) {
        PlatformErrors errors = core.backend().errors();
        int code = (int) -result;
        return new NativeIoException(call, errors.name(code), code, errors.describe(code));
    }

    static ErrorKind kind(LoopCore core, long result) {
        return result >= 0 ? null : core.backend().errors().kind((int) -result);
    }
}

package dev.panamio.sys.windows;

import java.lang.foreign.FunctionDescriptor;

/** What {@link Win32Api} uses for the functions it finds at run time, exposed for the conformance check. */
public final class Win32ApiDescriptors {
    private Win32ApiDescriptors() {}

    /** {@code LPFN_ACCEPTEX}'s descriptor. */
    public static FunctionDescriptor acceptEx() {
        return Win32Api.ACCEPTEX;
    }

    /** {@code LPFN_CONNECTEX}'s descriptor. */
    public static FunctionDescriptor connectEx() {
        return Win32Api.CONNECTEX;
    }

    /** {@code WSAID_ACCEPTEX}'s 16 bytes. */
    public static byte[] acceptExGuid() {
        return Win32Api.WSAID_ACCEPTEX.clone();
    }

    /** {@code WSAID_CONNECTEX}'s 16 bytes. */
    public static byte[] connectExGuid() {
        return Win32Api.WSAID_CONNECTEX.clone();
    }
}

package dev.panamio.conformance;

import java.io.IOException;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Proves hand-written (jextract-shaped) bindings equal the platform's headers: from the Java side it emits a C
 * file of {@code _Static_assert}s — each struct's size and alignment, each field's offset and size, each
 * constant's value, each function's signature ({@code __builtin_types_compatible_p} against the header's own
 * declaration) — and compiles it with the platform's C compiler. Any mismatch fails compilation, and the
 * assertion's message names the symbol. It also checks on the Java side that every downcall descriptor
 * matches the C prototype it claims, and that the symbol lists in {@code native-headers/} and the
 * generated classes agree both ways.
 *
 * <p>One instance describes one bindings package; {@link #linux()} and (in the Windows test) a Windows
 * instance are its users.
 */
public final class CConformance {
    /** Where the repository is (surefire sets {@code panamio.basedir}). */
    public static final Path BASEDIR = Path.of(System.getProperty("panamio.basedir", "."));

    private final String pkg;
    private final String headerClass;
    private final Path header;
    private final Path lists;
    private final Path generatedDir;
    private final Function<String, String> cTypeOfStruct;
    private final Map<String, String> cTypeLayouts;
    private final Map<String, GroupLayout> layoutOverrides = new LinkedHashMap<>();
    private final List<String> extraAsserts = new ArrayList<>();

    /**
     * @param pkg           the bindings package, e.g. {@code dev.panamio.sys.linux.ffi}
     * @param headerClass   the header class's simple name, e.g. {@code linux_h}
     * @param header        the header the bindings come from
     * @param lists         the folder with functions.txt, structs.txt, constants.txt
     * @param generatedDir  the root of the generated sources
     * @param cTypeOfStruct C type expression for a struct class name ({@code struct epoll_event}, {@code GUID})
     * @param cTypeLayouts  C scalar type → carrier name ({@code int → JAVA_INT}, pointers are handled apart)
     */
    public CConformance(String pkg, String headerClass, Path header, Path lists, Path generatedDir,
                        Function<String, String> cTypeOfStruct, Map<String, String> cTypeLayouts) {
        this.pkg = pkg;
        this.headerClass = headerClass;
        this.header = header;
        this.lists = lists;
        this.generatedDir = generatedDir;
        this.cTypeOfStruct = cTypeOfStruct;
        this.cTypeLayouts = cTypeLayouts;
    }

    /** The Linux bindings. */
    public static CConformance linux() {
        Map<String, String> types = new LinkedHashMap<>();
        for (String t : List.of("int", "unsigned int", "socklen_t", "__rlimit_resource_t", "uint32_t")) {
            types.put(t, "JAVA_INT");
        }
        for (String t : List.of("long", "unsigned long", "size_t", "ssize_t", "__off_t", "off_t", "uint64_t")) {
            types.put(t, "JAVA_LONG");
        }
        return new CConformance("dev.panamio.sys.linux.ffi", "linux_h",
                BASEDIR.resolve("native-headers/linux/panamio_linux.h"), BASEDIR.resolve("native-headers/linux"),
                BASEDIR.resolve("generated/linux"),
                name -> (name.equals("epoll_data") ? "union " : "struct ") + name, types);
    }



    /** The Windows bindings (x86-64, LLP64: C {@code long} is 32 bits), checked with the mingw-w64 headers. */
    public static CConformance windows() {
        Map<String, String> types = new LinkedHashMap<>();
        for (String t : List.of("int", "BOOL", "DWORD", "ULONG", "GROUP")) {
            types.put(t, "JAVA_INT");
        }
        types.put("WORD", "JAVA_SHORT");
        types.put("UCHAR", "JAVA_BYTE");
        for (String t : List.of("SOCKET", "ULONG_PTR")) {
            types.put(t, "JAVA_LONG");
        }
        return new CConformance("dev.panamio.sys.windows.ffi", "windows_h",
                BASEDIR.resolve("native-headers/windows/panamio_windows.h"), BASEDIR.resolve("native-headers/windows"),
                BASEDIR.resolve("generated/windows"), name -> name, types);
    }

    /** Uses {@code layout} for struct {@code name} instead of the generated one (per-architecture layouts). */
    public CConformance withLayout(String name, GroupLayout layout) {
        layoutOverrides.put(name, layout);
        return this;
    }

    /** Adds a raw assertion line (used by the test that proves a wrong layout is rejected). */
    public CConformance withExtraAssert(String line) {
        extraAsserts.add(line);
        return this;
    }

    // ------------------------------------------------------------------------------------------- lists

    public List<String> list(String file) throws IOException {
        return Files.readAllLines(lists.resolve(file)).stream().map(String::strip)
                .filter(s -> !s.isEmpty() && !s.startsWith("#")).toList();
    }

    private Class<?> cls(String simpleName) throws ClassNotFoundException {
        return Class.forName(pkg + "." + simpleName, false, CConformance.class.getClassLoader());
    }

    /** The struct's layout from its generated class (or an override). */
    public GroupLayout layoutOf(String struct) throws ReflectiveOperationException {
        GroupLayout o = layoutOverrides.get(struct);
        if (o != null) {
            return o;
        }
        Method m = cls(struct).getMethod("layout");
        return (GroupLayout) m.invoke(null);
    }

    // ------------------------------------------------------------------------------------------- emit

    /** The C source of every assertion. */
    public String emit() throws Exception {
        StringBuilder c = new StringBuilder();
        c.append("/* Generated by CConformance from the Java bindings in ").append(pkg).append(". */\n");
        c.append("#include \"").append(header.toAbsolutePath()).append("\"\n#include <stddef.h>\n\n");
        int n = 0;
        for (String s : list("structs.txt")) {
            n += emitStruct(c, s, layoutOf(s));
        }
        c.append('\n');
        Class<?> h = cls(headerClass);
        for (String k : list("constants.txt")) {
            c.append(constantAssertion(k, h.getMethod(k).invoke(null))).append('\n');
            n++;
        }
        c.append('\n');
        for (Prototype p : prototypes().values()) {
            c.append(functionAssertion(p)).append('\n');
            n++;
        }
        for (String line : extraAsserts) {
            c.append(line).append('\n');
            n++;
        }
        c.append("\n/* ").append(n).append(" assertions */\n");
        return c.toString();
    }

    /** The assertion that constant {@code name} has {@code value} (an Integer or a Long, as its accessor returns). */
    public static String constantAssertion(String name, Object value) {
        String type = value instanceof Integer ? "int" : "long long";
        return "_Static_assert((" + type + ")(" + name + ") == (" + type + ")(" + value
                + (value instanceof Long ? "LL" : "") + "), \"constant " + name + " = " + value + "\");";
    }

    /** The assertion that the header declares {@code p.name} with exactly the prototype's type. */
    public static String functionAssertion(Prototype p) {
        return "_Static_assert(__builtin_types_compatible_p(__typeof__(&" + p.name + "), " + p.pointerType()
                + "), \"function " + p.name + ": " + p.text.replace("\"", "'") + "\");";
    }

    /** The assertions for one struct or union: size, alignment, each field's offset and size. */
    public String structAssertions(String name, GroupLayout layout) {
        StringBuilder c = new StringBuilder();
        emitStruct(c, name, layout);
        return c.toString();
    }

    private int emitStruct(StringBuilder c, String name, GroupLayout layout) {
        String t = cTypeOfStruct.apply(name);
        int n = 2;
        c.append("_Static_assert(sizeof(").append(t).append(") == ").append(layout.byteSize()).append(", \"")
                .append(name).append(" size ").append(layout.byteSize()).append("\");\n");
        c.append("_Static_assert(_Alignof(").append(t).append(") == ").append(layout.byteAlignment()).append(", \"")
                .append(name).append(" alignment ").append(layout.byteAlignment()).append("\");\n");
        return n + emitMembers(c, name, t, layout, 0);
    }

    /**
     * Offset and size of each named member; the members of an anonymous union or struct ({@code $anon$...},
     * as jextract names them) are members of the enclosing struct in C, so they are checked as such.
     */
    private int emitMembers(StringBuilder c, String name, String t, GroupLayout layout, long base) {
        int n = 0;
        for (MemoryLayout m : layout.memberLayouts()) {
            if (m instanceof GroupLayout g && m.name().isPresent() && m.name().get().startsWith("$anon")) {
                n += emitMembers(c, name, t, g, base + layout.byteOffset(MemoryLayout.PathElement.groupElement(m.name().get())));
                continue;
            }
            if (!(m instanceof PaddingLayout) && m.name().isPresent()) {
                String f = m.name().get();
                long off = base + layout.byteOffset(MemoryLayout.PathElement.groupElement(f));
                c.append("_Static_assert(offsetof(").append(t).append(", ").append(f).append(") == ").append(off)
                        .append(", \"").append(name).append('.').append(f).append(" offset ").append(off).append("\");\n");
                c.append("_Static_assert(sizeof(((").append(t).append(" *)0)->").append(f).append(") == ")
                        .append(m.byteSize()).append(", \"").append(name).append('.').append(f).append(" size ")
                        .append(m.byteSize()).append("\");\n");
                n += 2;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------- functions

    /** A C prototype quoted in a generated Javadoc. */
    public record Prototype(String name, String text, String returnType, List<String> paramTypes, boolean variadic) {
        String pointerType() {
            List<String> ps = new ArrayList<>(paramTypes);
            if (variadic) {
                ps.add("...");
            }
            return returnType + " (*)(" + (ps.isEmpty() ? "void" : String.join(", ", ps)) + ")";
        }
    }

    private static final Pattern SNIPPET = Pattern.compile(
            "(Function descriptor for|Variadic invoker class for):\\s*\\*\\s*\\{@snippet lang=c :\\s*\\*\\s*(.+?)\\s*\\*\\s*}\\s*\\*/\\s*"
                    + "public static (?:FunctionDescriptor (\\w+)\\$descriptor|class (\\w+))", Pattern.DOTALL);
    private static final Pattern PROTO = Pattern.compile("^(.*?)\\b(\\w+)\\s*\\((.*)\\)$");

    /** Every function's prototype, read from the header class's source. */
    public Map<String, Prototype> prototypes() throws IOException {
        Path src = generatedDir.resolve(pkg.replace('.', '/')).resolve(headerClass + ".java");
        String text = Files.readString(src, StandardCharsets.UTF_8);
        Map<String, Prototype> out = new LinkedHashMap<>();
        Matcher m = SNIPPET.matcher(text);
        while (m.find()) {
            String proto = m.group(2).strip();
            String name = m.group(3) != null ? m.group(3) : m.group(4);
            out.put(name, parse(name, proto));
        }
        return out;
    }

    static Prototype parse(String name, String proto) {
        Matcher m = PROTO.matcher(proto);
        if (!m.matches() || !m.group(2).equals(name)) {
            throw new IllegalArgumentException("cannot parse the prototype of " + name + ": " + proto);
        }
        String ret = m.group(1).strip();
        List<String> params = new ArrayList<>();
        boolean variadic = false;
        String args = m.group(3).strip();
        if (!args.isEmpty() && !args.equals("void")) {
            for (String a : args.split(",")) {
                a = a.strip();
                if (a.equals("...")) {
                    variadic = true;
                    continue;
                }
                params.add(a.replaceAll("\\s*\\b\\w+$", "").replaceAll("\\s+\\*", " *").strip());
            }
        }
        return new Prototype(name, proto, ret, params, variadic);
    }

    /**
     * Java-side check: each {@code foo$descriptor()} (or a variadic invoker's base descriptor) has the layouts
     * its C prototype calls for. Returns the mismatches (empty when all agree).
     */
    public List<String> descriptorMismatches() throws Exception {
        List<String> bad = new ArrayList<>();
        Class<?> h = cls(headerClass);
        for (Prototype p : prototypes().values()) {
            FunctionDescriptor d;
            if (p.variadic) {
                d = (FunctionDescriptor) Class.forName(pkg + "." + headerClass + "$" + p.name)
                        .getMethod("baseDescriptor").invoke(null);
            } else {
                d = (FunctionDescriptor) h.getMethod(p.name + "$descriptor").invoke(null);
            }
            List<String> want = new ArrayList<>();
            for (String t : p.paramTypes) {
                want.add(carrier(t));
            }
            List<String> got = d.argumentLayouts().stream().map(CConformance::carrierOf).toList();
            String wantRet = p.returnType.equals("void") ? "void" : carrier(p.returnType);
            String gotRet = d.returnLayout().map(CConformance::carrierOf).orElse("void");
            if (!want.equals(got) || !wantRet.equals(gotRet)) {
                bad.add(p.name + ": C " + p.text + " wants " + wantRet + " " + want + ", descriptor has " + gotRet + " " + got);
            }
        }
        return bad;
    }

    private String carrier(String cType) {
        String t = cType.replace("restrict", "").replace("const", "").strip().replaceAll("\\s+", " ");
        if (t.contains("*") || t.endsWith("_ARG") || t.startsWith("LP") || t.startsWith("P") && t.equals(t.toUpperCase())
                || Set.of("HANDLE", "SOCKET_PTR").contains(t)) {
            return "ADDRESS";
        }
        String c = cTypeLayouts.get(t);
        if (c == null) {
            throw new IllegalArgumentException("no carrier known for C type '" + cType + "'");
        }
        return c;
    }

    private static String carrierOf(MemoryLayout l) {
        if (l instanceof AddressLayout) {
            return "ADDRESS";
        }
        if (l instanceof ValueLayout v) {
            Class<?> k = v.carrier();
            return k == int.class ? "JAVA_INT" : k == long.class ? "JAVA_LONG" : k == short.class ? "JAVA_SHORT"
                    : k == byte.class ? "JAVA_BYTE" : k.getSimpleName();
        }
        return l.toString();
    }

    // ------------------------------------------------------------------------------------------- compile

    /** What a compiler said. */
    public record Result(int exitCode, String output, Path source) {
        public boolean ok() {
            return exitCode == 0;
        }
    }

    /**
     * Writes {@code source} to {@code target/conformance/<name>.c} and compiles it with {@code compiler}
     * (syntax only, warnings are errors).
     *
     * @throws AssertionError naming the compiler and how to install it, when it is missing
     */
    public static Result compile(String compiler, String name, String source, String... flags) throws Exception {
        Path dir = BASEDIR.resolve("target/conformance");
        Files.createDirectories(dir);
        Path c = dir.resolve(name + ".c");
        Files.writeString(c, source);
        List<String> cmd = new ArrayList<>(List.of(compiler, "-fsyntax-only", "-std=gnu11", "-Werror"));
        cmd.addAll(List.of(flags));
        cmd.add(c.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException missing) {
            throw new AssertionError(compiler + " is not installed; run scripts/ensure-tools (Debian: apt-get install "
                    + switch (compiler) {
                        case "x86_64-w64-mingw32-gcc" -> "gcc-mingw-w64-x86-64";
                        case "aarch64-linux-gnu-gcc" -> "gcc-aarch64-linux-gnu libc6-dev-arm64-cross";
                        default -> "gcc libc6-dev";
                    } + ")", missing);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(compiler + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), out, c);
    }

    /** The assertion messages the compiler rejected, e.g. {@code sockaddr_in.sin_port offset 4}. */
    public static List<String> failedAssertions(Result r) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("static assertion failed: \"([^\"]*)\"").matcher(r.output());
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }
}

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Post-processes a jextract header class so that each function links on first use: the descriptor stays in
 * jextract's holder class, the address and method handle move into a nested {@code Link} class. So a loop
 * links only the functions it calls (the bindings' own handles are not made when panamio reads a descriptor
 * to build its errno-capturing handle), and the Windows bindings load (and the conformance test can read
 * their descriptors) on Linux, where kernel32 and ws2_32 do not exist. Run by {@code scripts/jextract}:
 * {@code java scripts/JextractLazyLink.java generated/<platform>/.../<header>_h.java}.
 */
public class JextractLazyLink {
    private static final Pattern HOLDER = Pattern.compile(
            "(\\n        public static final MemorySegment ADDR = (\\w+)\\.findOrThrow\\(\"(\\w+)\"\\);\\n\\n"
                    + "        public static final MethodHandle HANDLE = Linker\\.nativeLinker\\(\\)\\.downcallHandle\\(ADDR, DESC\\);\\n)");

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        String s = Files.readString(file);
        Matcher m = HOLDER.matcher(s);
        StringBuilder out = new StringBuilder();
        int n = 0;
        while (m.find()) {
            String header = m.group(2);
            String name = m.group(3);
            m.appendReplacement(out, Matcher.quoteReplacement(
                    "\n        // Linked on first use (scripts/JextractLazyLink.java), so the class loads where the library does not exist.\n"
                            + "        static final class Link {\n"
                            + "            public static final MemorySegment ADDR = " + header + ".findOrThrow(\"" + name + "\");\n\n"
                            + "            public static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);\n"
                            + "        }\n"));
            n++;
        }
        m.appendTail(out);
        s = out.toString().replaceAll("return (\\w+)\\.HANDLE;", "return $1.Link.HANDLE;")
                .replaceAll("return (\\w+)\\.ADDR;", "return $1.Link.ADDR;")
                .replaceAll("var mh\\$ = (\\w+)\\.HANDLE;", "var mh\\$ = $1.Link.HANDLE;");
        Files.writeString(file, s);
        System.out.println("JextractLazyLink: " + n + " functions in " + file + " now link on first use");
    }
}

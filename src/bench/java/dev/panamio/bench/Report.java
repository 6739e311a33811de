package dev.panamio.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns target/bench/results.json into a markdown table (medians, min–max, ratios) and an SVG chart. */
public final class Report {
    private Report() {}

    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(\"[^\"]*\"|[-0-9.]+|null)");
    private static final String[] ORDER = {"panamio-epoll", "panamio-io_uring", "nio", "netty-epoll", "netty-io_uring", "c-epoll", "ffm-floor", "panamio-httpserver"};

    public static void main(String[] args) throws Exception {
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, String> m = new LinkedHashMap<>();
            Matcher x = FIELD.matcher(line);
            while (x.find()) {
                m.put(x.group(1), x.group(2).replace("\"", ""));
            }
            rows.add(m);
        }
        Map<String, Map<String, List<Map<String, String>>>> byTest = new LinkedHashMap<>();
        for (Map<String, String> r : rows) {
            byTest.computeIfAbsent(r.get("test"), k -> new LinkedHashMap<>())
                    .computeIfAbsent(r.get("server"), k -> new ArrayList<>()).add(r);
        }
        StringBuilder md = new StringBuilder("# Benchmark results\n\nProduced by `scripts/bench` (method: [README](README.md)); this run: " + (args.length > 3 ? args[3] : "") + ". "
                + "Medians over rounds, min–max in brackets. Server pinned to core 0, load generator to core 1.\n\n");
        StringBuilder svg = new StringBuilder();
        int chartY = 30;
        List<String> bars = new ArrayList<>();
        for (var e : byTest.entrySet()) {
            String test = e.getKey();
            var servers = e.getValue();
            if (test.equals("startup")) {
                md.append("## EventLoop.create() start-up\n\n| backend | first (µs) | warm (µs) |\n|---|---|---|\n");
                for (var s : servers.entrySet()) {
                    var r = s.getValue().get(0);
                    md.append("| ").append(s.getKey()).append(" | ").append(r.get("startupColdMicros")).append(" | ")
                            .append(r.get("startupWarmMicros")).append(" |\n");
                }
                md.append('\n');
                continue;
            }
            if (test.startsWith("idle")) {
                md.append("## ").append(test).append(": memory with 10 000 idle connections\n\n| server | RSS (KiB) | bytes per idle connection |\n|---|---|---|\n");
                for (String s : ORDER) {
                    var list = servers.get(s);
                    if (list != null) {
                        md.append("| ").append(s).append(" | ").append(list.get(0).get("rssKiB")).append(" | ")
                                .append(list.get(0).get("rssBytesPerIdleConnection")).append(" |\n");
                    }
                }
                md.append('\n');
                continue;
            }
            md.append("## ").append(test).append("\n\n| server | requests/s | CPU µs/request (user + sys) | user µs/request | p50 µs | p99 µs | RSS KiB | heap bytes/request | mid-window heap bytes/request |\n|---|---|---|---|---|---|---|---|---|\n");
            Map<String, Double> medRps = new LinkedHashMap<>();
            Map<String, Double> medUser = new LinkedHashMap<>();
            Map<String, Double> medCpu = new LinkedHashMap<>();
            Map<String, Double> bestRps = new LinkedHashMap<>();
            Map<String, Double> bestUser = new LinkedHashMap<>();
            Map<String, Double> bestCpu = new LinkedHashMap<>();
            for (String s : ORDER) {
                var list = servers.get(s);
                if (list == null) {
                    continue;
                }
                double rps = median(list, "rps");
                medRps.put(s, rps);
                medUser.put(s, median(list, "userMicrosPerRequest"));
                medCpu.put(s, median(list, "cpuMicrosPerRequest"));
                bestRps.put(s, values(list, "rps").getLast());
                bestUser.put(s, values(list, "userMicrosPerRequest").getFirst());
                bestCpu.put(s, values(list, "cpuMicrosPerRequest").getFirst());
                md.append("| ").append(s).append(" | ").append(cell(list, "rps", "%,.0f")).append(" | ")
                        .append(cell(list, "cpuMicrosPerRequest", "%.3f")).append(" | ")
                        .append(cell(list, "userMicrosPerRequest", "%.3f")).append(" | ")
                        .append(cell(list, "p50Micros", "%.0f")).append(" | ").append(cell(list, "p99Micros", "%.0f"))
                        .append(" | ").append(cell(list, "rssKiB", "%.0f")).append(" | ")
                        .append(cell(list, "allocBytesPerRequest", "%.2f")).append(" | ")
                        .append(cell(list, "steadyAllocBytesPerRequest", "%.3f")).append(" |\n");
            }
            md.append('\n');
            for (String p : new String[] {"panamio-epoll", "panamio-io_uring"}) {
                if (!medRps.containsKey(p)) {
                    continue;
                }
                md.append("Ratios for ").append(p).append(" (same run), of medians: ")
                        .append(ratios(p, medRps, medCpu, medUser)).append(".\n")
                        .append("Of best rounds (each server's highest req/s, lowest CPU/req, lowest user CPU/req): ")
                        .append(ratios(p, bestRps, bestCpu, bestUser)).append(".\n\n");
            }
            if (medUser.containsKey("ffm-floor") && medUser.containsKey("c-epoll")) {
                md.append(String.format(Locale.ROOT, "The FFM floor (the C server's calls made from Java, no library) vs c-epoll: "
                        + "user CPU/req ×%.2f, CPU/req ×%.2f (best rounds: ×%.2f, ×%.2f).%n%n",
                        medUser.get("ffm-floor") / medUser.get("c-epoll"), medCpu.get("ffm-floor") / medCpu.get("c-epoll"),
                        bestUser.get("ffm-floor") / bestUser.get("c-epoll"), bestCpu.get("ffm-floor") / bestCpu.get("c-epoll")));
            }
            double max = medRps.values().stream().mapToDouble(d -> d).max().orElse(1);
            bars.add(String.format(Locale.ROOT, "<text x='10' y='%d' font-weight='bold'>%s (requests/s, median)</text>", chartY, test));
            chartY += 8;
            for (var s : medRps.entrySet()) {
                chartY += 20;
                double w = 500 * s.getValue() / max;
                String color = s.getKey().startsWith("panamio") ? "#2b7bb9"
                        : s.getKey().startsWith("c-") || s.getKey().startsWith("ffm-") ? "#888" : "#d98c2b";
                bars.add(String.format(Locale.ROOT, "<text x='10' y='%d'>%s</text><rect x='150' y='%d' width='%.0f' height='14' fill='%s'/>"
                        + "<text x='%.0f' y='%d'>%,.0f</text>", chartY, s.getKey(), chartY - 11, w, color, 155 + w, chartY, s.getValue()));
            }
            chartY += 30;
        }
        svg.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='820' height='%d' font-family='sans-serif' font-size='12'>", chartY))
                .append("<rect width='100%' height='100%' fill='white'/>");
        bars.forEach(svg::append);
        svg.append("</svg>\n");
        Files.writeString(Path.of(args[1]), md);
        Files.writeString(Path.of(args[2]), svg);
    }

    private static String ratios(String p, Map<String, Double> rps, Map<String, Double> cpu, Map<String, Double> user) {
        List<String> parts = new ArrayList<>();
        for (String peer : new String[] {"c-epoll", "ffm-floor", "nio", "netty-epoll", "netty-io_uring"}) {
            if (rps.containsKey(peer)) {
                parts.add(String.format(Locale.ROOT, "vs %s: req/s ×%.2f, CPU/req ×%.2f, user CPU/req ×%.2f", peer,
                        rps.get(p) / rps.get(peer), cpu.get(p) / cpu.get(peer), user.get(p) / user.get(peer)));
            }
        }
        return String.join("; ", parts);
    }

    private static List<Double> values(List<Map<String, String>> list, String key) {
        List<Double> v = new ArrayList<>();
        for (var r : list) {
            String s = r.get(key);
            if (s != null && !s.equals("null")) {
                v.add(Double.parseDouble(s));
            }
        }
        v.sort(null);
        return v;
    }

    private static double median(List<Map<String, String>> list, String key) {
        List<Double> v = values(list, key);
        if (v.isEmpty()) {
            return Double.NaN;
        }
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    private static String cell(List<Map<String, String>> list, String key, String fmt) {
        List<Double> v = values(list, key);
        if (v.isEmpty()) {
            return "–";
        }
        String med = String.format(Locale.ROOT, fmt, median(list, key));
        if (v.size() == 1) {
            return med;
        }
        return med + " [" + String.format(Locale.ROOT, fmt, v.get(0)) + "–" + String.format(Locale.ROOT, fmt, v.get(v.size() - 1)) + "]";
    }
}

package io.imagemirror.testbed;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A fault-injecting HTTP proxy in front of a real registry (a {@link LocalRegistry}): it forwards
 * every request and, for blob GETs, applies the next queued {@link Fault} to the answer — a truncated
 * body, a flipped byte, a wrong {@code Content-Length} either way, a 429 or 503 (with
 * {@code Retry-After}), a reset mid-body — optionally stalling at a byte offset until the test
 * releases a {@link Gate} (the "slow" variants, deterministic). Faults apply in queue order, one per
 * blob GET; with the queue empty answers pass through unchanged.
 *
 * <p>Written on a raw socket because several faults (a body shorter or longer than its
 * {@code Content-Length}, a TCP reset) cannot be produced through an HTTP server library.
 * Thread-safe; {@link #close()} stops it.
 */
public final class FaultProxy implements AutoCloseable {

    /** What to do to one blob GET's answer. */
    public enum Kind {
        /** Forward unchanged (useful with a gate: a slow but correct answer). */
        PASS,
        /** Correct {@code Content-Length}, body cut at {@code offset}, then a clean close. */
        TRUNCATE,
        /** The byte at body {@code offset} is inverted. */
        FLIP,
        /** {@code Content-Length} one more than the body, which ends with a clean close. */
        LENGTH_OVER,
        /** {@code Content-Length} one less than the body (the whole body is still sent). */
        LENGTH_UNDER,
        /** An error status with OCI error JSON and an optional {@code Retry-After}. */
        STATUS,
        /** {@code offset} bytes of the body, then a TCP reset. */
        RESET
    }

    /** How blob GETs that ask for a {@code Range} are answered (see {@link #ranges}). */
    public enum Ranges {
        /** Forwarded as they are: the registry answers {@code 206} with the range. */
        HONOUR,
        /** The {@code Range} header is dropped: the registry answers {@code 200} with the whole blob. */
        IGNORE,
        /** Forwarded, but the answer's {@code Content-Range} claims to start one byte later than it does. */
        MISLABEL
    }

    /**
     * A stall point: the proxy signals {@link #awaitReached} when the body got to the offset, then
     * waits for {@link #release}.
     */
    public static final class Gate {
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        public boolean awaitReached(Duration timeout) throws InterruptedException {
            return reached.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        public void release() {
            released.countDown();
        }

        void hold() {
            reached.countDown();
            try {
                if (!released.await(2, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("gate never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * One fault.
     *
     * @param offset body offset for TRUNCATE/FLIP/RESET; for STATUS the HTTP status
     * @param retryAfter the {@code Retry-After} value of a STATUS fault, or null
     * @param holdAt stall when this many body bytes are out (-1 for no stall)
     * @param gate the stall's gate (null without a stall)
     */
    public record Fault(Kind kind, long offset, String retryAfter, long holdAt, Gate gate) {
        public static Fault pass() {
            return new Fault(Kind.PASS, 0, null, -1, null);
        }

        public static Fault truncateAt(long offset) {
            return new Fault(Kind.TRUNCATE, offset, null, -1, null);
        }

        public static Fault flipAt(long offset) {
            return new Fault(Kind.FLIP, offset, null, -1, null);
        }

        public static Fault lengthOver() {
            return new Fault(Kind.LENGTH_OVER, 0, null, -1, null);
        }

        public static Fault lengthUnder() {
            return new Fault(Kind.LENGTH_UNDER, 0, null, -1, null);
        }

        public static Fault status(int status, String retryAfter) {
            return new Fault(Kind.STATUS, status, retryAfter, -1, null);
        }

        public static Fault resetAt(long offset) {
            return new Fault(Kind.RESET, offset, null, -1, null);
        }

        /** The same fault, stalling once {@code offset} body bytes are out until {@code gate} is released. */
        public Fault holdingAt(long offset, Gate gate) {
            return new Fault(kind, this.offset, retryAfter, offset, gate);
        }
    }

    private final URI upstream;
    private final ServerSocket socket;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Deque<Fault> faults = new ConcurrentLinkedDeque<>();
    private final List<String> requestLines = Collections.synchronizedList(new ArrayList<>());
    private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());
    private volatile Ranges ranges = Ranges.HONOUR;
    private final java.util.concurrent.atomic.AtomicLong rangedBlobGets = new java.util.concurrent.atomic.AtomicLong();

    private FaultProxy(URI upstream, ServerSocket socket) {
        this.upstream = upstream;
        this.socket = socket;
    }

    /** Starts a proxy on a free loopback port forwarding to {@code upstream} (e.g. {@link LocalRegistry#url()}). */
    public static FaultProxy start(URI upstream) {
        try {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            FaultProxy p = new FaultProxy(upstream, s);
            p.pool.execute(p::accept);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the fault proxy", e);
        }
    }

    /** Queues a fault for the next blob GET that has none applied yet. */
    public FaultProxy inject(Fault fault) {
        faults.add(fault);
        return this;
    }

    /** How blob GETs with a {@code Range} are answered from now on. */
    public FaultProxy ranges(Ranges mode) {
        this.ranges = mode;
        return this;
    }

    /** Blob GETs that arrived with a {@code Range} header (whatever was done with it). */
    public long rangedBlobGets() {
        return rangedBlobGets.get();
    }

    /** Drops queued faults that were not used. */
    public void clearFaults() {
        faults.clear();
    }

    /** Faults still queued. */
    public int pendingFaults() {
        return faults.size();
    }

    /** {@code METHOD path} of every request forwarded, in order. */
    public List<String> requestLines() {
        synchronized (requestLines) {
            return List.copyOf(requestLines);
        }
    }

    /** How many GETs of blob {@code digest} reached the proxy. */
    public long blobGets(String digest) {
        return requestLines().stream().filter(l -> l.startsWith("GET ") && l.contains("/blobs/" + digest)).count();
    }

    public String hostPort() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    public URI url() {
        return URI.create("http://" + hostPort());
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                open.add(s);
                pool.execute(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String requestLine = line(in);
                if (requestLine == null || requestLine.isEmpty()) {
                    return;
                }
                Map<String, String> headers = new LinkedHashMap<>();
                for (String h; (h = line(in)) != null && !h.isEmpty(); ) {
                    int colon = h.indexOf(':');
                    if (colon > 0) {
                        headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
                    }
                }
                byte[] body = new byte[0];
                String cl = header(headers, "Content-Length");
                if (cl != null) {
                    body = in.readNBytes(Integer.parseInt(cl));
                }
                String[] parts = requestLine.split(" ");
                String method = parts[0];
                String target = parts[1];
                requestLines.add(method + " " + target);
                if (!forward(method, target, headers, body, out, s)) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // the client went away, or a fault closed the connection
        } finally {
            open.remove(s);
        }
    }

    /** Forwards one request; false when the connection must not be reused. */
    private boolean forward(String method, String target, Map<String, String> headers, byte[] body, OutputStream out,
                            Socket s) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(upstream.resolve(target)).timeout(Duration.ofSeconds(30));
        boolean blobGet = method.equals("GET") && target.contains("/blobs/sha256:");
        Ranges rangeMode = ranges;
        if (blobGet && header(headers, "Range") != null) {
            rangedBlobGets.incrementAndGet();
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            String n = h.getKey().toLowerCase(Locale.ROOT);
            if (blobGet && n.equals("range") && rangeMode == Ranges.IGNORE) {
                continue;
            }
            if (!List.of("host", "content-length", "connection", "expect", "upgrade", "transfer-encoding",
                    "keep-alive", "te", "date", "via", "from", "warning").contains(n)) {
                b.header(h.getKey(), h.getValue());
            }
        }
        b.method(method, body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        Fault fault = blobGet ? faults.poll() : null;
        if (fault != null && fault.kind() == Kind.STATUS) {
            int status = (int) fault.offset();
            byte[] json = ("{\"errors\":[{\"code\":\"" + (status == 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE")
                    + "\",\"message\":\"injected by the fault proxy\"}]}").getBytes(StandardCharsets.UTF_8);
            StringBuilder head = new StringBuilder("HTTP/1.1 " + status + " Injected\r\n")
                    .append("Content-Type: application/json\r\nContent-Length: ").append(json.length).append("\r\n");
            if (fault.retryAfter() != null) {
                head.append("Retry-After: ").append(fault.retryAfter()).append("\r\n");
            }
            out.write(head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(json);
            out.flush();
            return true;
        }
        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        byte[] content = r.body();
        long declared = content.length;
        if (fault != null && fault.kind() == Kind.LENGTH_OVER) {
            declared = content.length + 1L;
        } else if (fault != null && fault.kind() == Kind.LENGTH_UNDER) {
            declared = content.length - 1L;
        }
        StringBuilder head = new StringBuilder("HTTP/1.1 " + r.statusCode() + " Proxied\r\n");
        r.headers().map().forEach((k, vs) -> {
            String n = k.toLowerCase(Locale.ROOT);
            if (n.equals("content-range") && blobGet && rangeMode == Ranges.MISLABEL) {
                vs.forEach(v -> head.append(k).append(": ").append(shifted(v)).append("\r\n"));
            } else if (!List.of("content-length", "connection", "transfer-encoding", "keep-alive", ":status").contains(n)) {
                vs.forEach(v -> head.append(k).append(": ").append(v).append("\r\n"));
            }
        });
        boolean headOnly = method.equals("HEAD");
        if (headOnly) {
            declared = r.headers().firstValueAsLong("Content-Length").orElse(0);
        }
        head.append("Content-Length: ").append(declared).append("\r\n\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (headOnly) {
            out.flush();
            return true;
        }
        long cut = content.length;
        if (fault != null && (fault.kind() == Kind.TRUNCATE || fault.kind() == Kind.RESET)) {
            cut = Math.min(cut, fault.offset());
        }
        if (fault != null && fault.kind() == Kind.FLIP && fault.offset() < content.length) {
            content = content.clone();
            content[(int) fault.offset()] ^= (byte) 0xff;
        }
        long holdAt = fault == null || fault.gate() == null ? -1 : Math.min(fault.holdAt(), cut);
        if (holdAt >= 0) {
            out.write(content, 0, (int) holdAt);
            out.flush();
            fault.gate().hold();
            out.write(content, (int) holdAt, (int) (cut - holdAt));
        } else {
            out.write(content, 0, (int) cut);
        }
        out.flush();
        if (fault == null || fault.kind() == Kind.PASS || fault.kind() == Kind.FLIP) {
            return true;
        }
        if (fault.kind() == Kind.RESET) {
            s.setSoLinger(true, 0); // close() now sends RST instead of FIN
        }
        return false; // the answer's framing is broken: end the connection
    }

    /** {@code bytes A-B/N} as {@code bytes A+1-B+1/N}: a range other than the one sent. */
    private static String shifted(String contentRange) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("bytes (\\d+)-(\\d+)/(.*)").matcher(contentRange.trim());
        if (!m.matches()) {
            return contentRange;
        }
        return "bytes " + (Long.parseLong(m.group(1)) + 1) + "-" + (Long.parseLong(m.group(2)) + 1) + "/" + m.group(3);
    }

    private static String header(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> h : headers.entrySet()) {
            if (h.getKey().equalsIgnoreCase(name)) {
                return h.getValue();
            }
        }
        return null;
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c < 0 && b.size() == 0) {
            return null;
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
        synchronized (open) {
            for (Socket s : open) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
        pool.shutdownNow();
    }
}

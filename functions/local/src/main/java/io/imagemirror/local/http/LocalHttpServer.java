package io.imagemirror.local.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Carries image-mirror's {@link ApiHandler} over the JDK's HTTP server: one request, one
 * {@link ApiRequest}; streamed bodies are copied out with a large buffer and closed; {@code HEAD}
 * answers carry the {@code Content-Length} a GET would have. Writes one access-log line per request.
 * Thread-safe; {@link #close()} stops accepting and waits briefly for requests in flight.
 */
public final class LocalHttpServer implements AutoCloseable {

    private static final int COPY_BUFFER = 256 * 1024;

    private final HttpServer server;
    private final ExecutorService executor;
    private final ApiHandler handler;
    private final Consumer<String> accessLog;
    private final Clock clock;

    private LocalHttpServer(HttpServer server, ExecutorService executor, ApiHandler handler,
                            Consumer<String> accessLog, Clock clock) {
        this.server = server;
        this.executor = executor;
        this.handler = handler;
        this.accessLog = accessLog;
        this.clock = clock;
    }

    /**
     * Binds and starts serving.
     *
     * @param address where to listen (port 0 picks a free one)
     * @param threads how many requests are served at once
     * @param accessLog receives one line per request
     */
    public static LocalHttpServer start(InetSocketAddress address, int threads, ApiHandler handler,
                                        Consumer<String> accessLog, Clock clock) throws IOException {
        HttpServer server = HttpServer.create(address, 128);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "http-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        LocalHttpServer s = new LocalHttpServer(server, executor, handler, accessLog, clock);
        server.createContext("/", s::serve);
        server.setExecutor(executor);
        server.start();
        return s;
    }

    /** The bound address (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void serve(HttpExchange exchange) {
        Instant start = clock.instant();
        int status = 500;
        long sent = 0;
        try (exchange) {
            ApiRequest request = new ApiRequest(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    ApiRequest.parseQuery(exchange.getRequestURI().getRawQuery()), exchange.getRequestHeaders(),
                    exchange.getRequestBody(), exchange.getRemoteAddress().getAddress().isLoopbackAddress());
            ApiResponse response;
            try {
                response = handler.handle(request);
            } catch (Exception e) {
                response = ApiResponse.json(500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":"
                        + quote("internal error: " + e.getClass().getSimpleName()) + ",\"detail\":null}]}");
                accessLog.accept("error serving " + request.method() + " " + request.path() + ": " + e);
            }
            try (ApiResponse r = response) {
                status = r.status();
                sent = send(exchange, request.isHead(), r);
            }
        } catch (IOException e) {
            // the client went away mid-response; nothing to answer
            status = -status;
        } finally {
            long ms = Duration.between(start, clock.instant()).toMillis();
            accessLog.accept(String.format("%s %s %s %s %d %d %dms",
                    exchange.getRemoteAddress().getAddress().getHostAddress(), exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath()
                            + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery()),
                    exchange.getProtocol(), status, sent, ms));
        }
    }

    private static long send(HttpExchange exchange, boolean head, ApiResponse response) throws IOException {
        response.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        boolean hasBody = !head && response.status() != 204 && response.status() != 304
                && (response.body() != null && response.body().length > 0 || response.stream() != null);
        if (!hasBody) {
            // -1: no body. The Content-Length header set above still tells a HEAD what GET would send.
            exchange.sendResponseHeaders(response.status(), -1);
            return 0;
        }
        exchange.sendResponseHeaders(response.status(), response.length());
        OutputStream out = exchange.getResponseBody();
        if (response.body() != null) {
            out.write(response.body());
            out.close();
            return response.body().length;
        }
        long total = 0;
        byte[] buf = new byte[COPY_BUFFER];
        InputStream in = response.stream();
        for (int r; total < response.length() && (r = in.read(buf, 0, (int) Math.min(buf.length, response.length() - total))) >= 0; ) {
            out.write(buf, 0, r);
            total += r;
        }
        out.close();
        return total;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdownNow();
    }

    /** For callers that log access lines somewhere other than stderr. */
    public static Consumer<String> stderrLog() {
        return line -> {
            byte[] b = (line + System.lineSeparator()).getBytes(StandardCharsets.UTF_8);
            System.err.write(b, 0, b.length);
            System.err.flush();
        };
    }
}

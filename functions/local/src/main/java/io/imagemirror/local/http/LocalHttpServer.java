package io.imagemirror.local.http;

import io.imagemirror.api.ApiErrors;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.OciError;
import io.imagemirror.store.FileRegion;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries image-mirror's {@link ApiHandler} over Jetty: one request, one {@link ApiRequest};
 * streamed bodies are copied out with a large buffer and closed; {@code HEAD} answers carry the
 * {@code Content-Length} a GET would have. Writes one access-log line per request.
 *
 * <p>Jetty rather than the JDK's server because clients such as skopeo and podman probe an
 * insecure registry with a TLS handshake first: Jetty answers that garbage with an immediate 400,
 * so they fall back to HTTP at once instead of after a timeout. Thread-safe; {@link #close()}
 * stops accepting and ends the requests in flight.
 */
public final class LocalHttpServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalHttpServer.class);
    private static final int COPY_BUFFER = 256 * 1024;
    /** How much of a file is mapped at a time when serving a stored blob. */
    private static final long MAP_SLICE = 16L << 20;
    /** How much of a request body the handler left unread is read and dropped before answering. */
    private static final int UNREAD_BODY_LIMIT = 64 * 1024;

    private final Server server;
    private final ServerConnector connector;

    private LocalHttpServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
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
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(threads, 8), 4);
        pool.setName("http");
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(address.getAddress().getHostAddress());
        connector.setPort(address.getPort());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(handler, accessLog, clock, request, response, callback);
                return true;
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        return new LocalHttpServer(server, connector);
    }

    /** The bound address (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return new InetSocketAddress(connector.getHost(), connector.getLocalPort());
    }

    private static void serve(ApiHandler handler, Consumer<String> accessLog, Clock clock, Request request,
                              Response response, Callback callback) {
        Instant start = clock.instant();
        int status = 500;
        long sent = 0;
        String failure = null;
        String rawQuery = request.getHttpURI().getQuery();
        String path = request.getHttpURI().getDecodedPath();
        SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
        boolean loopback = remote instanceof InetSocketAddress isa && isa.getAddress() != null
                && isa.getAddress().isLoopbackAddress();
        try {
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (HttpField f : request.getHeaders()) {
                headers.computeIfAbsent(f.getName(), k -> new ArrayList<>()).add(f.getValue());
            }
            ApiRequest apiRequest = new ApiRequest(request.getMethod(), path == null ? "/" : path,
                    ApiRequest.parseQuery(rawQuery), headers, Content.Source.asInputStream(request), loopback);
            ApiResponse apiResponse;
            try {
                apiResponse = handler.handle(apiRequest);
            } catch (Exception e) {
                // The APIs answer every failure they expect in OCI error JSON: this is a bug of ours,
                // the one case that gets a stack trace (once, here).
                LOG.error("bug serving {} {}", request.getMethod(), path, e);
                apiResponse = ApiErrors.of(500, ErrorCode.UNKNOWN, "internal error: " + e.getClass().getSimpleName())
                        .failure("internal error, see the stack trace above: " + e);
            }
            try (ApiResponse r = apiResponse) {
                settleUnreadBody(apiRequest.body(), response);
                status = r.status();
                failure = r.failure();
                sent = send(response, apiRequest.isHead(), r);
            }
            callback.succeeded();
        } catch (Throwable t) {
            if (failure == null) {
                failure = String.valueOf(t);
            }
            if (!response.isCommitted() && t instanceof IOException) {
                // The body failed before its headers went out: the client can still get an error.
                status = 502;
                try {
                    response.reset();
                    sendError(response, 502, "the blob could not be delivered: " + t.getMessage());
                    callback.succeeded();
                } catch (Throwable again) {
                    callback.failed(new Quiet(t));
                }
            } else {
                // Headers and part of the body are out: aborting the connection is the only honest end,
                // so the client sees a failed transfer rather than a clean short or wrong body.
                status = -status;
                callback.failed(new Quiet(t));
            }
        } finally {
            long ms = Duration.between(start, clock.instant()).toMillis();
            accessLog.accept(String.format("%s %s %s%s %d %d %dms%s", remote instanceof InetSocketAddress isa
                            ? isa.getAddress().getHostAddress() : String.valueOf(remote), request.getMethod(),
                    request.getHttpURI().getPath(), rawQuery == null ? "" : "?" + rawQuery, status, sent, ms,
                    failure == null ? "" : " (" + failure + ")"));
        }
    }

    /**
     * An answer given before the request body was read (a refusal by content type, origin or
     * token) would leave Jetty to close the connection after the response went out, while the
     * client may already have taken that connection from its pool for the next request, which then
     * fails with no answer at all. So a small unread rest is read and dropped here, and a large one
     * is announced with {@code Connection: close} so the client opens a new connection.
     */
    private static void settleUnreadBody(InputStream body, Response response) {
        byte[] buf = new byte[8192];
        try {
            for (int left = UNREAD_BODY_LIMIT; left > 0; ) {
                int n = body.read(buf, 0, Math.min(buf.length, left));
                if (n < 0) {
                    return;
                }
                left -= n;
            }
        } catch (IOException e) {
            // the client stopped sending: this connection is not reused either way
        }
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
    }

    private static void sendError(Response response, int status, String message) throws IOException {
        byte[] body = OciError.toJson(List.of(OciError.of(ErrorCode.UNKNOWN, message))).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "application/json");
        response.getHeaders().put("Content-Length", Long.toString(body.length));
        FutureCallback done = new FutureCallback();
        response.write(true, java.nio.ByteBuffer.wrap(body), done);
        awaitWrite(done);
    }

    /**
     * A failure handed to Jetty only to abort the connection: the cause is already in the access
     * log line, so it carries no stack trace for Jetty to print again.
     */
    private static final class Quiet extends IOException {
        private static final long serialVersionUID = 1L;

        Quiet(Throwable cause) {
            super(String.valueOf(cause));
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    private static long send(Response response, boolean head, ApiResponse r) throws IOException {
        response.setStatus(r.status());
        r.headers().forEach((k, v) -> response.getHeaders().put(k, v));
        boolean hasBody = !head && r.status() != 204 && r.status() != 304
                && (r.body() != null && r.body().length > 0 || r.stream() != null);
        if (!hasBody) {
            return 0;
        }
        if (r.stream() instanceof FileRegion region && region.length() == r.length()) {
            return sendRegion(response, region);
        }
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            if (r.body() != null) {
                out.write(r.body());
                return r.body().length;
            }
            long total = 0;
            byte[] buf = new byte[COPY_BUFFER];
            InputStream in = r.stream();
            long length = r.length();
            for (int n; total < length && (n = in.read(buf, 0, (int) Math.min(buf.length, length - total))) >= 0; ) {
                out.write(buf, 0, n);
                total += n;
            }
            if (total < length) {
                throw new IOException("body ended after " + total + " of " + length + " bytes");
            }
            return total;
        }
    }

    /**
     * Writes a file region by mapping it in slices and handing each mapped buffer to the socket:
     * the kernel copies from the page cache, with no read into and write out of a heap buffer.
     */
    private static long sendRegion(Response response, FileRegion region) throws IOException {
        long position = region.position();
        long end = position + region.length();
        if (region.length() == 0) {
            FutureCallback done = new FutureCallback();
            response.write(true, BufferUtil.EMPTY_BUFFER, done);
            awaitWrite(done);
            return 0;
        }
        while (position < end) {
            // A spool still being filled releases its bytes as they arrive (and the last one only
            // once verified); a stored file is available whole.
            long available = region.awaitAvailable(position);
            long slice = Math.min(MAP_SLICE, available - position);
            MappedByteBuffer mapped = region.channel().map(FileChannel.MapMode.READ_ONLY, position, slice);
            FutureCallback written = new FutureCallback();
            response.write(position + slice >= end, mapped, written);
            awaitWrite(written);
            position += slice;
        }
        return region.length();
    }

    private static void awaitWrite(FutureCallback written) throws IOException {
        try {
            written.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while sending");
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping is best effort; the process is ending
        }
    }
}

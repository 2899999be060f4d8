package io.imagemirror.upstream;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

/**
 * A token realm like {@code auth.docker.io/token}: issues {@code tok-N} for the scopes asked,
 * anonymously or only for one Basic credential, with a configurable {@code expires_in}. The
 * registry asks {@link #grants} whether a token covers a scope; {@link #revokeAll} makes every
 * issued token fail (a token that expired on the server's side).
 */
final class TokenServer extends Dispatcher {
    static final String SERVICE = "registry.fake";

    final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
    private final Map<String, List<String>> issued = new ConcurrentHashMap<>();
    private final AtomicInteger counter = new AtomicInteger();
    private final String realm;
    volatile String requiredBasic;   // "Basic ..." or null for anonymous access
    volatile long expiresIn = 300;

    TokenServer(String realm) {
        this.realm = realm;
    }

    String realm() {
        return realm;
    }

    boolean grants(String token, String scope) {
        List<String> scopes = issued.get(token);
        return scopes != null && (scope.isEmpty() || scopes.contains(scope));
    }

    void revokeAll() {
        issued.clear();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        requests.add(request);
        if (!request.getUrl().encodedPath().equals("/token")) {
            return new MockResponse.Builder().code(404).build();
        }
        if (requiredBasic != null && !requiredBasic.equals(request.getHeaders().get("Authorization"))) {
            return FakeRegistry.json(401, "{\"details\":\"incorrect username or password\"}").build();
        }
        String token = "tok-" + counter.incrementAndGet();
        issued.put(token, request.getUrl().queryParameterValues("scope").stream().map(String::valueOf).toList());
        return FakeRegistry.json(200, "{\"token\":\"" + token + "\",\"access_token\":\"" + token
                + "\",\"expires_in\":" + expiresIn + ",\"issued_at\":\"2026-01-01T00:00:00Z\"}").build();
    }
}

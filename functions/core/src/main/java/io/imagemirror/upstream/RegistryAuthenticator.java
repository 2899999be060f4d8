package io.imagemirror.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.OciError;
import io.imagemirror.oci.RegistryException;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.Authenticator;
import okhttp3.Challenge;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.Route;

/**
 * Registry auth for one upstream, in the HTTP layer. As an {@link Authenticator} it answers a 401
 * from the upstream once: a {@code Bearer} challenge by fetching a token from the realm (anonymous,
 * or with the upstream's credentials as Basic), a {@code Basic} challenge with the credentials; it
 * gives up ({@code null}) when its answer was refused too or the challenge came from another host.
 * As an application {@link Interceptor} it adds the cached token for the request's scope up front,
 * fetching a fresh one when the cached one has expired, so a long copy outlives its token.
 *
 * <p>Tokens are cached per scope ({@code repository:<name>:pull}) until shortly before
 * {@code expires_in}. A token or credential is only ever sent to the upstream's endpoint (tokens)
 * and to a realm on one of its allowed auth hosts (credentials). Thread-safe.
 */
final class RegistryAuthenticator implements Authenticator, Interceptor {

    /** The auth scope a request needs; carried as an OkHttp request tag. */
    record AuthScope(String value) {
        static final AuthScope NONE = new AuthScope("");

        static AuthScope pull(String repository) {
            return new AuthScope("repository:" + repository + ":pull");
        }
    }

    private record Token(String value, Instant expiresAt) {
    }

    private record Realm(HttpUrl url, String service) {
    }

    static final int MAX_TOKEN_BODY = 1 << 20;
    private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Upstream upstream;
    private final HttpUrl endpoint;
    private final OkHttpClient tokenHttp;
    private final Clock clock;
    private final Map<String, Token> tokens = new ConcurrentHashMap<>();
    private volatile Realm realm;
    private volatile boolean basic;

    /** @param tokenHttp a client without redirects or authenticator, for the token realm */
    RegistryAuthenticator(Upstream upstream, OkHttpClient tokenHttp, Clock clock) {
        this.upstream = upstream;
        this.endpoint = HttpUrl.get(upstream.endpoint());
        this.tokenHttp = tokenHttp;
        this.clock = clock;
    }

    /** Whether {@code url} is on the upstream's endpoint (same scheme, host and port). */
    boolean isUpstream(HttpUrl url) {
        return url.scheme().equals(endpoint.scheme()) && url.host().equalsIgnoreCase(endpoint.host())
                && url.port() == endpoint.port();
    }

    @Override
    public Response intercept(Chain chain) throws IOException {
        Request request = chain.request();
        if (!isUpstream(request.url()) || request.header("Authorization") != null) {
            return chain.proceed(request);
        }
        String authorization = preemptive(scopeOf(request));
        return chain.proceed(authorization == null ? request
                : request.newBuilder().header("Authorization", authorization).build());
    }

    private String preemptive(String scope) throws IOException {
        Credentials credentials = upstream.credentials().orElse(null);
        if (basic && credentials != null) {
            return credentials.basicAuthorization();
        }
        Realm r = realm;
        if (r == null) {
            return null; // no challenge seen yet: let the registry say what it wants
        }
        Token t = tokens.get(scope);
        if (t == null || !clock.instant().isBefore(t.expiresAt())) {
            t = fetchToken(r, scope);
            tokens.put(scope, t);
        }
        return "Bearer " + t.value();
    }

    @Override
    public Request authenticate(Route route, Response response) throws IOException {
        Request prior = response.request();
        if (!isUpstream(prior.url())) {
            return null; // never answer a challenge of a host we did not configure
        }
        Response earlier = response.priorResponse();
        if (earlier != null && earlier.code() == 401) {
            return null; // our answer to the first challenge was refused as well
        }
        String scope = scopeOf(prior);
        for (Challenge c : response.challenges()) {
            String scheme = c.scheme().toLowerCase(Locale.ROOT);
            if (scheme.equals("bearer")) {
                Realm r = realmOf(c);
                realm = r;
                String wanted = c.authParams().get("scope");
                tokens.remove(scope);
                Token t = fetchToken(r, wanted != null && !wanted.isBlank() ? wanted : scope);
                tokens.put(scope, t);
                return prior.newBuilder().header("Authorization", "Bearer " + t.value()).build();
            }
            if (scheme.equals("basic")) {
                Credentials credentials = upstream.credentials().orElse(null);
                String sent = prior.header("Authorization");
                if (credentials == null || (sent != null && sent.startsWith("Basic "))) {
                    return null;
                }
                basic = true;
                return prior.newBuilder().header("Authorization", credentials.basicAuthorization()).build();
            }
        }
        return null;
    }

    private Realm realmOf(Challenge c) throws RegistryException {
        String value = c.authParams().get("realm");
        HttpUrl url = value == null ? null : HttpUrl.parse(value);
        if (url == null) {
            throw RegistryException.refused(upstream.name() + ": Bearer challenge without a usable realm",
                    ErrorCode.UNAUTHORIZED);
        }
        if (!url.isHttps() && !upstream.insecure()) {
            throw RegistryException.refused(upstream.name() + ": refusing plain-HTTP token realm on " + url.host(),
                    ErrorCode.DENIED);
        }
        if (!upstream.allowsAuthHost(url.host(), url.port())) {
            throw RegistryException.refused(upstream.name() + ": token realm host " + url.host() + ":" + url.port()
                    + " is not an allowed auth host of this upstream " + upstream.authHosts(), ErrorCode.DENIED);
        }
        return new Realm(url, c.authParams().get("service"));
    }

    private Token fetchToken(Realm r, String scope) throws IOException {
        HttpUrl.Builder url = r.url().newBuilder();
        if (r.service() != null) {
            url.addQueryParameter("service", r.service());
        }
        for (String s : scope.split(" ")) {
            if (!s.isBlank()) {
                url.addQueryParameter("scope", s);
            }
        }
        Request.Builder request = new Request.Builder().url(url.build()).get();
        Credentials credentials = upstream.credentials().orElse(null);
        if (credentials != null) {
            request.header("Authorization", credentials.basicAuthorization());
        }
        String what = upstream.name() + ": token for " + (scope.isEmpty() ? "registry access" : scope)
                + " from " + r.url().host();
        try (Response response = tokenHttp.newCall(request.build()).execute()) {
            if (!response.isSuccessful()) {
                List<OciError> errors = OciError.read(response.body().byteStream());
                if (errors.isEmpty() && (response.code() == 401 || response.code() == 403)) {
                    errors = List.of(OciError.of(response.code() == 401 ? ErrorCode.UNAUTHORIZED : ErrorCode.DENIED,
                            credentials == null ? "anonymous access refused" : "the configured credentials were refused"));
                }
                throw new RegistryException(what, response.code(), errors);
            }
            byte[] body = response.body().byteStream().readNBytes(MAX_TOKEN_BODY);
            JsonNode json;
            try {
                json = JSON.readTree(body);
            } catch (IOException e) {
                throw RegistryException.refused(what + ": answer is not JSON", ErrorCode.UNAUTHORIZED);
            }
            String token = json == null ? null : json.path("token").asText(json.path("access_token").asText(null));
            if (token == null || token.isBlank()) {
                throw RegistryException.refused(what + ": answer has no token", ErrorCode.UNAUTHORIZED);
            }
            long seconds = json.path("expires_in").asLong(0);
            Duration lifetime = seconds > 0 ? Duration.ofSeconds(seconds) : DEFAULT_TOKEN_LIFETIME;
            // Renew a little early so a request does not leave with a token that dies on the way.
            Duration margin = lifetime.dividedBy(10).compareTo(Duration.ofSeconds(30)) < 0
                    ? lifetime.dividedBy(10) : Duration.ofSeconds(30);
            return new Token(token, clock.instant().plus(lifetime).minus(margin));
        } catch (RegistryException e) {
            throw e;
        } catch (IOException e) {
            throw RegistryException.transport(what + ": " + e.getClass().getSimpleName(), e);
        }
    }

    private static String scopeOf(Request request) {
        AuthScope s = request.tag(AuthScope.class);
        return s == null ? "" : s.value();
    }
}

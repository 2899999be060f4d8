package io.imagemirror.mirror;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Interceptor;
import okhttp3.Response;

/** Records every request that reaches the network, so tests can count what a run asked upstream for. */
public final class UpstreamRequestCounter implements Interceptor {

    public record Seen(String method, String path) {
        public boolean isManifest() {
            return path.contains("/manifests/");
        }

        public boolean isBlob() {
            return path.contains("/blobs/");
        }
    }

    public final List<Seen> seen = new CopyOnWriteArrayList<>();

    @Override
    public Response intercept(Chain chain) throws IOException {
        seen.add(new Seen(chain.request().method(), chain.request().url().encodedPath()));
        return chain.proceed(chain.request());
    }

    public long count(String method, java.util.function.Predicate<Seen> what) {
        return seen.stream().filter(s -> s.method().equals(method)).filter(what).count();
    }

    public void reset() {
        seen.clear();
    }
}

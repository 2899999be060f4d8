package io.imagemirror.mirror;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Interceptor;
import okhttp3.Response;

/** Records every request that reaches the network, so tests can count what a run asked upstream for. */
final class UpstreamRequestCounter implements Interceptor {

    record Seen(String method, String path) {
        boolean isManifest() {
            return path.contains("/manifests/");
        }

        boolean isBlob() {
            return path.contains("/blobs/");
        }
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();

    @Override
    public Response intercept(Chain chain) throws IOException {
        seen.add(new Seen(chain.request().method(), chain.request().url().encodedPath()));
        return chain.proceed(chain.request());
    }

    long count(String method, java.util.function.Predicate<Seen> what) {
        return seen.stream().filter(s -> s.method().equals(method)).filter(what).count();
    }

    void reset() {
        seen.clear();
    }
}

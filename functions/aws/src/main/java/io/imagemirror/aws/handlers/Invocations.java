package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import io.imagemirror.aws.metrics.EmfMetrics;
import java.util.function.Supplier;

/**
 * What every handler does around an event: log lines carry its request id, and the metrics it
 * produced are written (as EMF lines) before the answer goes back, since a function may be frozen
 * right after and never run again.
 */
final class Invocations {
    private Invocations() {
    }

    /** @param metrics flushed at the end, or null when the handler was built without them (tests) */
    static <T> T run(Context context, EmfMetrics metrics, Supplier<T> work) {
        LambdaLog.begin(context);
        try {
            return work.get();
        } finally {
            if (metrics != null) {
                metrics.flush(LambdaLog.requestId());
            }
            LambdaLog.end();
        }
    }
}

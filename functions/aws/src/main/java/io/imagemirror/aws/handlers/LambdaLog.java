package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;

/** One line to the function's log (CloudWatch through the runtime's logger; stderr without a context). */
final class LambdaLog {
    private LambdaLog() {
    }

    static void line(Context context, String line) {
        if (context != null && context.getLogger() != null) {
            context.getLogger().log(line + "\n");
        } else {
            System.err.println(line);
        }
    }
}

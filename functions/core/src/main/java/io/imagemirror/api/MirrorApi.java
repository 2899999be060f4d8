package io.imagemirror.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.jobs.MirrorImage;
import io.imagemirror.jobs.MirrorJobRequest;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.store.Job;
import io.imagemirror.sync.SyncRules;
import java.io.IOException;
import java.util.Optional;

/**
 * The {@code /v1} routes: {@code POST /v1/mirror} records a mirror job and answers 202 with where
 * to follow it; {@code GET /v1/jobs/<id>} shows its state, progress and result; the read-only
 * views of what is mirrored ({@code /v1/images}, {@code /v1/search}, {@code /v1/df}) are
 * {@link ImagesApi}'s. Errors are OCI
 * error JSON. Who may call the write route is the carrier's decision (loopback or a token locally,
 * IAM on AWS).
 */
public final class MirrorApi implements ApiHandler {

    /** Request bodies larger than this are refused. */
    public static final int MAX_BODY = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MirrorJobs jobs;
    private final NameRouter names;
    private final ImagesApi views;
    private final RulesApi rules;
    /** The sweeper behind {@code /v1/sweeps}, {@code /v1/prune} and {@code DELETE /v1/images}, or null. */
    private final io.imagemirror.sweep.SweepService sweeps;
    /** {@code GET /v1/upstreams}, or null. */
    private final UpstreamsRoute upstreams;

    /**
     * @param names resolves the requested image as {@code /v2} and the CLI do
     * @param rules the stored sync rules ({@code /v1/rules}), or null where they are not offered
     * @param views the read-only views ({@link ImagesApi}: images, inspect, history, search, df), or null
     */
    public MirrorApi(MirrorJobs jobs, NameRouter names, SyncRules rules, MirrorViews views) {
        this.jobs = jobs;
        this.names = names;
        this.rules = rules == null ? null : new RulesApi(rules);
        this.views = views == null ? null : new ImagesApi(views);
        this.sweeps = null;
        this.upstreams = null;
    }

    private MirrorApi(MirrorApi base, RulesApi rules, io.imagemirror.sweep.SweepService sweeps,
                      UpstreamsRoute upstreams) {
        this.jobs = base.jobs;
        this.names = base.names;
        this.rules = rules;
        this.views = base.views;
        this.sweeps = sweeps;
        this.upstreams = upstreams;
    }

    /** The same routes plus {@code GET /v1/sweeps}, {@code POST /v1/prune} and {@code DELETE /v1/images/<ref>}. */
    public MirrorApi withSweeps(io.imagemirror.sweep.SweepService sweeps) {
        return new MirrorApi(this, rules, sweeps, upstreams);
    }

    /**
     * The same routes plus {@code POST /v1/rules/<name>/runs}: runs a rule once now through
     * {@code planner} (its copy jobs go to the planner's job queue, as a scheduled pass's do). Without
     * it that route answers 405: rules run on their schedule only.
     *
     * @throws IllegalStateException when these routes have no rules
     */
    public MirrorApi withPlanner(io.imagemirror.sync.SyncPlanner planner) {
        if (rules == null) {
            throw new IllegalStateException("no /v1/rules here to run");
        }
        return new MirrorApi(this, rules.withPlanner(planner), sweeps, upstreams);
    }

    /**
     * The same routes plus {@code GET /v1/upstreams}: each upstream's quota (from the shared ledger),
     * request counts and last error.
     *
     * @param syncQuotaFloor the floor below which the quota shows as {@code low}
     */
    public MirrorApi withUpstreams(io.imagemirror.upstream.Upstreams all, int syncQuotaFloor, java.time.Clock clock) {
        return new MirrorApi(this, rules, sweeps, new UpstreamsRoute(all, syncQuotaFloor, clock));
    }

    /** The job and rule routes, without the views. */
    public MirrorApi(MirrorJobs jobs, NameRouter names, SyncRules rules) {
        this(jobs, names, rules, null);
    }

    /** The job routes and the views, without the rules. */
    public MirrorApi(MirrorJobs jobs, NameRouter names, MirrorViews views) {
        this(jobs, names, null, views);
    }

    /** The job routes alone (for callers that only submit and follow jobs). */
    public MirrorApi(MirrorJobs jobs, NameRouter names) {
        this(jobs, names, null, null);
    }

    /** Whether this API answers {@code path}. */
    public static boolean handles(String path) {
        return path.equals("/v1") || path.startsWith("/v1/");
    }

    @Override
    public ApiResponse handle(ApiRequest request) throws IOException {
        String path = request.path();
        if (views != null && request.isRead() && ImagesApi.handles(path)) {
            return views.handle(request);
        }
        if (path.equals("/v1/mirror")) {
            if (!request.method().equals("POST")) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "use POST /v1/mirror").header("Allow", "POST");
            }
            return submit(request);
        }
        if (rules != null && RulesApi.handles(path)) {
            return rules.handle(request);
        }
        if (path.startsWith("/v1/jobs/")) {
            if (!request.isRead()) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "jobs are read-only").header("Allow", "GET, HEAD");
            }
            String id = path.substring("/v1/jobs/".length());
            Optional<Job> job = id.isEmpty() || id.contains("/") ? Optional.empty() : jobs.get(id);
            if (job.isEmpty()) {
                return ApiErrors.of(404, ErrorCode.UNKNOWN, "no job " + id + " (unknown or expired)");
            }
            return ApiResponse.json(200, jobJson(job.get()));
        }
        if (upstreams != null && path.equals("/v1/upstreams")) {
            return upstreams.handle(request);
        }
        if (sweeps != null && (path.equals("/v1/sweeps") || path.equals("/v1/prune")
                || (path.startsWith("/v1/images/") && request.method().equals("DELETE")))) {
            return SweepRoutes.handle(sweeps, names, request);
        }
        return ApiErrors.of(404, ErrorCode.UNKNOWN, "no route " + request.method() + " " + path);
    }

    private ApiResponse submit(ApiRequest request) throws IOException {
        String body;
        try {
            request.requireSameOrigin();
            body = request.jsonBody(MAX_BODY);
        } catch (RequestRefusedException e) {
            return e.response();
        }
        MirrorRequest mirrorRequest;
        try {
            mirrorRequest = MirrorJobRequest.parse(body, names::resolve);
        } catch (InvalidReferenceException e) {
            return ApiErrors.of(400, ErrorCode.NAME_INVALID, e.getMessage());
        } catch (IllegalArgumentException e) {
            return ApiErrors.of(400, ErrorCode.UNKNOWN, e.getMessage());
        }
        Job job;
        try {
            job = jobs.submit(MirrorImage.of(mirrorRequest));
        } catch (RegistryException e) {
            ErrorCode code = e.errors().isEmpty() ? ErrorCode.UNKNOWN : e.errors().get(0).code();
            return ApiErrors.of(e.status() > 0 ? e.status() : code.httpStatus(), code, e.getMessage());
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("jobId", job.id());
        o.put("status", "/v1/jobs/" + job.id());
        return ApiResponse.json(202, o.toString()).header("Location", "/v1/jobs/" + job.id());
    }

    /** A job as the API shows it. */
    public static String jobJson(Job job) {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", job.id());
        o.put("kind", job.kind());
        o.put("state", job.status().name().toLowerCase(java.util.Locale.ROOT));
        o.set("request", parse(job.request()));
        ObjectNode p = o.putObject("progress");
        p.put("bytesDone", job.progressDone());
        p.put("bytesTotal", job.progressTotal());
        o.set("result", job.result() == null ? null : parse(job.result()));
        o.put("error", job.error());
        o.put("created", job.created().toString());
        o.put("updated", job.updated().toString());
        return o.toString();
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(json);
        }
    }
}

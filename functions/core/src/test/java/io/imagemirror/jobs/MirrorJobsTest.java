package io.imagemirror.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.TestImage;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class MirrorJobsTest extends MirrorTestBase {

    final List<String> queued = new CopyOnWriteArrayList<>();

    MirrorJobs jobs() {
        return new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
    }

    MirrorImage api(String repoAndTag) {
        return MirrorImage.of(MirrorRequest.of(ref(repoAndTag), Cause.API));
    }

    @Test
    void submitRecordsAQueuedJobAndRunCompletesIt() throws Exception {
        TestImage img = TestImage.builder(1).layer(5000).build();
        upstream.pusher().pushImage("jobs/app", "1", img);
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(api("jobs/app:1"));
        assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
        assertThat(queued).containsExactly(job.id());
        assertThat(jobs.get(job.id())).hasValueSatisfying(j -> {
            assertThat(j.kind()).isEqualTo("mirror");
            assertThat(j.request()).contains("jobs/app:1").contains("\"cause\":\"api\"");
        });

        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        Job done = jobs.get(job.id()).orElseThrow();
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.result()).contains(img.digest()).contains("\"status\":\"COPIED\"");
        assertThat(JobJson.result(done)).hasValueSatisfying(r -> assertThat(((MirrorJobResult) r).images())
                .singleElement().satisfies(i -> assertThat(i.digest().toString()).isEqualTo(img.digest())));
    }

    @Test
    void aDuplicateDeliveryCopiesNothing() throws Exception {
        TestImage img = TestImage.builder(2).layer(5000).build();
        upstream.pusher().pushImage("jobs/dup", "1", img);
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(api("jobs/dup:1"));
        jobs.run(job.id());
        requests.reset();
        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.DUPLICATE);
        assertThat(requests.seen).isEmpty();
        assertThat(jobs.run("no-such-job")).isEqualTo(MirrorJobs.Outcome.UNKNOWN_JOB);
    }

    @Test
    void aRunningJobIsNotClaimedTwice() throws Exception {
        MirrorJobs jobs = jobs();
        TestImage img = TestImage.builder(3).build();
        upstream.pusher().pushImage("jobs/running", "1", img);
        Job job = jobs.submit(api("jobs/running:1"));
        metadata.updateJob(job.withStatus(JobStatus.RUNNING, Clock.systemUTC().instant()), JobStatus.QUEUED);
        requests.reset();
        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.DUPLICATE);
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aFailedRunRecordsTheReasonThrowsAndCanBeRetried() throws Exception {
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(api("jobs/later:1"));
        assertThatThrownBy(() -> jobs.run(job.id())).isInstanceOf(MirrorException.class);
        Job failed = jobs.get(job.id()).orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error()).contains("jobs/later:1");

        upstream.pusher().pushImage("jobs/later", "1", TestImage.builder(4).build());
        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        assertThat(jobs.get(job.id()).orElseThrow().error()).isNull();
    }

    @Test
    void anUnconfiguredRegistryIsRefusedAtSubmit() {
        assertThatThrownBy(() -> jobs().submit(MirrorImage.of(MirrorRequest.of(ImageReference.parse("quay.io/x/y:1"), Cause.API))))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.DENIED)).isTrue());
        assertThat(queued).isEmpty();
    }

    @Test
    void aJobOfAnUnknownKindFailsWithItsReasonAndIsNotRetried() throws Exception {
        Instant now = Instant.now();
        metadata.createJob(Job.queued("from-the-future", "sweep-v9", "{\"everything\":true}", now,
                now.plus(MirrorJobs.RETENTION)));

        assertThat(jobs().run("from-the-future")).isEqualTo(MirrorJobs.Outcome.REJECTED);
        Job failed = metadata.getJob("from-the-future").orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error()).contains("unknown job kind \"sweep-v9\"");
        // Another delivery of the same message is rejected again, without a retry of its own.
        assertThat(jobs().run("from-the-future")).isEqualTo(MirrorJobs.Outcome.REJECTED);
        assertThat(queued).isEmpty();
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aJobWithAMalformedPayloadFailsWithItsReasonAndIsNotRetried() throws Exception {
        Instant now = Instant.now();
        Map<String, String> bad = Map.of(
                "not-json", "{\"image\":",
                "no-image", "{\"platforms\":[],\"cause\":\"api\"}",
                "bad-reference", "{\"image\":\"Not A Reference\",\"cause\":\"api\"}",
                "bad-cause", "{\"image\":\"" + ref("jobs/x:1") + "\",\"cause\":\"because\"}",
                "unknown-field", "{\"image\":\"" + ref("jobs/x:1") + "\",\"cause\":\"api\",\"force\":true}");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            metadata.createJob(Job.queued(e.getKey(), "mirror", e.getValue(), now, now.plus(MirrorJobs.RETENTION)));
            assertThat(jobs().run(e.getKey())).as(e.getKey()).isEqualTo(MirrorJobs.Outcome.REJECTED);
            Job failed = metadata.getJob(e.getKey()).orElseThrow();
            assertThat(failed.status()).as(e.getKey()).isEqualTo(JobStatus.FAILED);
            assertThat(failed.error()).as(e.getKey()).startsWith("malformed payload of mirror job");
        }
        assertThat(metadata.getJob("bad-cause").orElseThrow().error()).contains("because");
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aMirrorJobQueuedByTheReleaseBeforeTypedJobsStillRuns() throws Exception {
        TestImage img = TestImage.builder(5).build();
        upstream.pusher().pushImage("jobs/old", "1", img);
        Instant now = Instant.now();
        // The payload exactly as MirrorJobRequest.toJson wrote it before causes were kept.
        metadata.createJob(Job.queued("old-job", "mirror", "{\"image\":\"" + ref("jobs/old:1").canonical()
                + "\",\"platforms\":[],\"allTags\":false,\"referrers\":false}", now, now.plus(MirrorJobs.RETENTION)));

        assertThat(jobs().run("old-job")).as(() -> metadata.getJob("old-job").orElseThrow().error())
                .isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        assertThat(metadata.tagHistory(repoKey("jobs/old"), "1", 10, null).items())
                .extracting(TagEvent::cause).containsExactly(Cause.MIRROR.value());
    }
}

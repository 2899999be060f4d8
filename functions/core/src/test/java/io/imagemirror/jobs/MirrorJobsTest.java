package io.imagemirror.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.testbed.TestImage;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class MirrorJobsTest extends MirrorTestBase {

    final List<String> queued = new CopyOnWriteArrayList<>();

    MirrorJobs jobs() {
        return new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
    }

    @Test
    void submitRecordsAQueuedJobAndRunCompletesIt() throws Exception {
        TestImage img = TestImage.builder(1).layer(5000).build();
        upstream.pusher().pushImage("jobs/app", "1", img);
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(MirrorRequest.of(ref("jobs/app:1")));
        assertThat(job.status()).isEqualTo(JobStatus.QUEUED);
        assertThat(queued).containsExactly(job.id());
        assertThat(jobs.get(job.id())).hasValueSatisfying(j -> assertThat(j.request()).contains("jobs/app:1"));

        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        Job done = jobs.get(job.id()).orElseThrow();
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.result()).contains(img.digest()).contains("\"status\":\"COPIED\"");
    }

    @Test
    void aDuplicateDeliveryCopiesNothing() throws Exception {
        TestImage img = TestImage.builder(2).layer(5000).build();
        upstream.pusher().pushImage("jobs/dup", "1", img);
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(MirrorRequest.of(ref("jobs/dup:1")));
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
        Job job = jobs.submit(MirrorRequest.of(ref("jobs/running:1")));
        metadata.updateJob(job.withStatus(JobStatus.RUNNING, Clock.systemUTC().instant()), JobStatus.QUEUED);
        requests.reset();
        assertThat(jobs.run(job.id())).isEqualTo(MirrorJobs.Outcome.DUPLICATE);
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aFailedRunRecordsTheReasonThrowsAndCanBeRetried() throws Exception {
        MirrorJobs jobs = jobs();
        Job job = jobs.submit(MirrorRequest.of(ref("jobs/later:1")));
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
        assertThatThrownBy(() -> jobs().submit(MirrorRequest.of(ImageReference.parse("quay.io/x/y:1"))))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.DENIED)).isTrue());
        assertThat(queued).isEmpty();
    }
}

package io.imagemirror.aws.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.store.AwsClients;
import java.io.IOException;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/** The job queue against ElasticMQ. */
class SqsJobQueueTest {

    static SqsClient sqs;
    static String queueUrl;

    @BeforeAll
    static void createQueue() {
        sqs = new AwsClients(AwsFixture.sdkEnv()).sqs();
        queueUrl = sqs.createQueue(b -> b.queueName("jobqueue-" + UUID.randomUUID().toString().substring(0, 12)))
                .queueUrl();
    }

    @AfterAll
    static void deleteQueue() {
        sqs.deleteQueue(b -> b.queueUrl(queueUrl));
        sqs.close();
    }

    @Test
    void sendsOneJobMessageThatReadsBackAsTheJobId() throws IOException {
        new SqsJobQueue(sqs, queueUrl).send("job-1");
        List<Message> got = sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(5).maxNumberOfMessages(10))
                .messages();
        assertThat(got).hasSize(1);
        assertThat(got.get(0).body()).isEqualTo("{\"jobId\":\"job-1\"}");
        assertThat(SqsJobQueue.jobIdOf(got.get(0).body())).isEqualTo("job-1");
    }

    @Test
    void aQueueThatDoesNotExistIsAnIOException() {
        String missing = queueUrl + "-missing";
        assertThatThrownBy(() -> new SqsJobQueue(sqs, missing).send("job-2"))
                .isInstanceOf(IOException.class).hasMessageContaining("job-2").hasMessageContaining(missing);
    }

    @Test
    void messageBodiesThatAreNotJobsAreRefused() {
        assertThat(SqsJobQueue.jobIdOf(SqsJobQueue.messageBody("a\"b"))).isEqualTo("a\"b");
        for (String bad : new String[] {"", "nope", "[]", "{}", "{\"jobId\": 7}", "{\"jobId\": \" \"}"}) {
            assertThatThrownBy(() -> SqsJobQueue.jobIdOf(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}

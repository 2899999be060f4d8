package io.imagemirror.aws;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import io.imagemirror.api.DistributionApi;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.aws.handlers.CopyWorkerHandler;
import io.imagemirror.aws.handlers.MirrorApiHandler;
import io.imagemirror.aws.handlers.RegistryHandler;
import io.imagemirror.aws.store.AwsClients;
import io.imagemirror.aws.store.DynamoIndex;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.testbed.TestBed;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;

/** template.yaml against the code: handlers, environment, routes, permissions, table keys, queue timing. */
class TemplateTest {

    static final String DEPLOYMENT_JAR = "functions/aws/target/image-mirror-aws.jar";
    /** Which paths each HTTP handler answers; a new HTTP handler adds its own check here. */
    static final Map<String, Predicate<String>> ROUTES = Map.of(MirrorApiHandler.class.getName(), MirrorApi::handles,
            RegistryHandler.class.getName(), DistributionApi::handles);
    /** Paths each HTTP handler serves in code, which the template must route to it. */
    static final Map<String, List<String>> SERVED = Map.of(MirrorApiHandler.class.getName(),
            List.of("/v1/mirror", "/v1/jobs/7f3c2a1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b", "/v1/images",
                    "/v1/images/golftrack:1.5", "/v1/images/golftrack:1.5/history", "/v1/search", "/v1/df",
                    "/v1/prune", "/v1/sweeps", "/v1/rules/busybox", "/v1/rules/busybox/runs"),
            RegistryHandler.class.getName(), List.of("/v2/", "/v2/library/alpine/manifests/3.20", "/v2/_catalog"));

    final JsonNode template = CloudFormationYaml.template();
    final Map<String, JsonNode> resources = CloudFormationYaml.fields(template.get("Resources"));

    Map<String, JsonNode> functions() {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        resources.forEach((name, r) -> {
            if (r.path("Type").asText().equals("AWS::Serverless::Function")) {
                out.put(name, r.get("Properties"));
            }
        });
        return out;
    }

    JsonNode global(String property) {
        return template.path("Globals").path("Function").path(property);
    }

    @Test
    void isASamTemplateWithSnapStartOnPublishedVersions() {
        assertThat(template.path("Transform").asText()).isEqualTo("AWS::Serverless-2016-10-31");
        assertThat(global("Runtime").asText()).isEqualTo("java21");
        assertThat(global("SnapStart").path("ApplyOn").asText()).isEqualTo("PublishedVersions");
        assertThat(global("AutoPublishAlias").asText()).isNotBlank();
        assertThat(global("Tracing").asText()).isEqualTo("Active");
        assertThat(functions()).containsKeys("MirrorApi", "CopyWorker", "SyncPlanner");
        assertThat(CloudFormationYaml.fields(template.get("Outputs"))).containsKeys("ApiUrl", "BucketName", "TableName");
    }

    @Test
    void theCopyWorkerCompilesWithC2AndTheRequestFunctionsStartWithC1() {
        // Lambda's java17/java21 runtimes stop at C1, which has no SHA-256 intrinsic (JitLevel).
        assertThat(functions().get("CopyWorker").path("Environment").path("Variables").path("JAVA_TOOL_OPTIONS")
                .asText()).contains("-XX:TieredStopAtLevel=4")
                // resumable copies hash with the JDK's SHA-256 (Sha256State)
                .contains("--add-opens=java.base/sun.security.provider=ALL-UNNAMED");
        assertThat(functions().get("MirrorApi").path("Environment").path("Variables").path("JAVA_TOOL_OPTIONS")
                .asText()).contains("-XX:TieredStopAtLevel=1");
        assertThat(global("Environment").path("Variables").has("JAVA_TOOL_OPTIONS")).as("no global JIT setting").isFalse();
    }

    @Test
    void everyHandlerIsARequestHandlerOfThisModuleInTheDeploymentJar() throws Exception {
        for (Map.Entry<String, JsonNode> f : functions().entrySet()) {
            String handler = f.getValue().path("Handler").asText();
            // "Class" for a stream handler (the runtime calls its stream method), else "Class::handleRequest".
            assertThat(handler).as(f.getKey()).matches("io\\.imagemirror\\.aws\\.[\\w.]+(::handleRequest)?");
            Class<?> type = Class.forName(handler.replace("::handleRequest", ""));
            if (handler.endsWith("::handleRequest")) {
                assertThat(RequestHandler.class).as(handler).isAssignableFrom(type);
                assertThat(type.getMethod("handleRequest", Object.class, Context.class)).isNotNull();
            } else {
                assertThat(RequestStreamHandler.class).as(handler).isAssignableFrom(type);
                assertThat(RequestHandler.class.isAssignableFrom(type)).as(handler + ": one entry point only").isFalse();
            }
            assertThat(type.getConstructor()).as("no-arg constructor for the runtime").isNotNull();
            String codeUri = f.getValue().has("CodeUri") ? f.getValue().get("CodeUri").asText() : global("CodeUri").asText();
            assertThat(codeUri).as(f.getKey()).isEqualTo(DEPLOYMENT_JAR);
        }
    }

    @Test
    void everyVariableTheWiringReadsIsSetForEveryFunction() throws IOException {
        Set<String> read = new TreeSet<>();
        Pattern literal = Pattern.compile("\"(IMAGE_MIRROR_[A-Z0-9_]+)\"");
        try (Stream<Path> sources = Files.walk(TestBed.repoRoot().resolve("functions/aws/src/main/java"))) {
            for (Path p : sources.filter(x -> x.toString().endsWith(".java")).toList()) {
                Matcher m = literal.matcher(Files.readString(p));
                while (m.find()) {
                    read.add(m.group(1));
                }
            }
        }
        assertThat(read).as("variables named in the code").containsExactlyInAnyOrderElementsOf(AwsWiring.VARIABLES);
        Set<String> globals = CloudFormationYaml.fields(global("Environment").path("Variables")).keySet();
        for (Map.Entry<String, JsonNode> f : functions().entrySet()) {
            Set<String> set = new HashSet<>(globals);
            set.addAll(CloudFormationYaml.fields(f.getValue().path("Environment").path("Variables")).keySet());
            assertThat(set).as(f.getKey()).containsAll(AwsWiring.VARIABLES);
        }
    }

    @Test
    void everyRouteReachesAHandlerThatAnswersIt() {
        int routes = 0;
        for (Map.Entry<String, JsonNode> f : functions().entrySet()) {
            String handler = f.getValue().path("Handler").asText().replace("::handleRequest", "");
            for (JsonNode event : CloudFormationYaml.fields(f.getValue().path("Events")).values()) {
                if (!event.path("Type").asText().equals("HttpApi")) {
                    continue;
                }
                routes++;
                String path = event.path("Properties").path("Path").asText();
                assertThat(ROUTES).as("route check for " + handler).containsKey(handler);
                String sample = path.replace("{proxy+}", "mirror");
                assertThat(ROUTES.get(handler).test(sample)).as(path + " -> " + handler).isTrue();
                assertThat(event.path("Properties").path("ApiId").path("Ref").asText()).isEqualTo("HttpApi");
                if (path.startsWith("/v1")) {
                    assertThat(event.path("Properties").path("Auth").path("Authorizer").asText())
                            .as("the write API is IAM-authorized").isEqualTo("AWS_IAM");
                }
            }
        }
        assertThat(routes).isPositive();
        assertThat(resources.get("HttpApi").path("Properties").path("Auth").path("EnableIamAuthorizer").asBoolean())
                .isTrue();
    }

    @Test
    void everyPathAHandlerServesHasARouteToIt() {
        for (Map.Entry<String, List<String>> served : SERVED.entrySet()) {
            List<Pattern> routes = new ArrayList<>();
            for (JsonNode f : functions().values()) {
                if (f.path("Handler").asText().replace("::handleRequest", "").equals(served.getKey())) {
                    for (JsonNode event : CloudFormationYaml.fields(f.path("Events")).values()) {
                        String path = event.path("Properties").path("Path").asText();
                        routes.add(Pattern.compile(Pattern.quote(path).replace("{proxy+}", "\\E.+\\Q")));
                    }
                }
            }
            for (String path : served.getValue()) {
                assertThat(routes).as(path + " -> " + served.getKey()).anyMatch(r -> r.matcher(path).matches());
            }
        }
    }

    @Test
    void noFunctionMayDescribeTheTable() {
        // The init checks the table by reading its schema item (AwsStorage.openIndex), not DescribeTable.
        for (Map.Entry<String, JsonNode> f : functions().entrySet()) {
            List<JsonNode> statements = new ArrayList<>();
            f.getValue().path("Policies").forEach(p -> collectStatements(p, statements));
            for (JsonNode s : statements) {
                JsonNode actions = s.path("Action");
                for (JsonNode action : actions.isArray() ? actions : List.of(actions)) {
                    assertThat(action.asText()).as(f.getKey()).isNotEqualTo("dynamodb:DescribeTable");
                }
            }
        }
    }

    @Test
    void policiesAreInlineAndNameOnlyResourcesOfThisTemplate() {
        Set<String> known = new HashSet<>(resources.keySet());
        known.addAll(CloudFormationYaml.fields(template.get("Parameters")).keySet());
        for (Map.Entry<String, JsonNode> f : functions().entrySet()) {
            List<JsonNode> statements = new ArrayList<>();
            for (JsonNode policy : f.getValue().path("Policies")) {
                assertThat(policy.isObject()).as(f.getKey() + ": no managed policies by name").isTrue();
                collectStatements(policy, statements);
            }
            assertThat(statements).as(f.getKey()).isNotEmpty();
            for (JsonNode s : statements) {
                assertThat(s.path("Effect").asText()).isEqualTo("Allow");
                JsonNode resource = s.get("Resource");
                assertThat(resource).as(f.getKey() + " " + s).isNotNull();
                for (JsonNode r : resource.isArray() ? resource : List.of(resource)) {
                    assertThat(r.isTextual()).as(f.getKey() + ": resource " + r + " must reference this template")
                            .isFalse();
                    assertThat(referencedNames(r)).as(f.getKey() + " " + r).isNotEmpty().allMatch(known::contains);
                }
                for (JsonNode action : s.path("Action").isArray() ? s.path("Action") : List.of(s.path("Action"))) {
                    assertThat(action.asText()).as(f.getKey()).doesNotContain("*");
                }
            }
        }
    }

    /** Statements of a policy document, through {@code Fn::If} branches. */
    private static void collectStatements(JsonNode policy, List<JsonNode> out) {
        if (policy.has("Fn::If")) {
            JsonNode branches = policy.get("Fn::If");
            collectStatements(branches.get(1), out);
            collectStatements(branches.get(2), out);
        } else if (policy.has("Statement")) {
            policy.get("Statement").forEach(out::add);
        }
    }

    /** The resources or parameters a {@code Ref}, {@code Fn::GetAtt} or {@code Fn::Sub} names. */
    private static Set<String> referencedNames(JsonNode r) {
        Set<String> names = new HashSet<>();
        if (r.has("Ref")) {
            names.add(r.get("Ref").asText());
        } else if (r.has("Fn::GetAtt")) {
            names.add(r.get("Fn::GetAtt").get(0).asText());
        } else if (r.has("Fn::Sub")) {
            Matcher m = Pattern.compile("\\$\\{([A-Za-z0-9]+)(\\.[A-Za-z]+)?}").matcher(r.get("Fn::Sub").asText());
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void theTableHasTheKeysDynamoIndexCreates() {
        JsonNode table = resources.get("IndexTable").get("Properties");
        assertThat(table.path("BillingMode").asText()).isEqualTo("PAY_PER_REQUEST");
        assertThat(table.path("PointInTimeRecoverySpecification").path("PointInTimeRecoveryEnabled").asBoolean()).isTrue();
        String name = "template-" + UUID.randomUUID().toString().substring(0, 12);
        try (DynamoDbClient dynamo = new AwsClients(AwsFixture.sdkEnv()).dynamoDb()) {
            DynamoIndex.createTable(dynamo, name);
            try {
                TableDescription d = dynamo.describeTable(b -> b.tableName(name)).table();
                Map<String, String> attributes = d.attributeDefinitions().stream()
                        .collect(Collectors.toMap(a -> a.attributeName(), a -> a.attributeTypeAsString()));
                Map<String, String> templateAttributes = stream(table.get("AttributeDefinitions")).collect(
                        Collectors.toMap(a -> a.get("AttributeName").asText(), a -> a.get("AttributeType").asText()));
                assertThat(templateAttributes).isEqualTo(attributes);
                assertThat(keys(table.get("KeySchema"))).isEqualTo(d.keySchema().stream()
                        .map(k -> k.attributeName() + ":" + k.keyTypeAsString()).toList());
                assertThat(table.get("GlobalSecondaryIndexes")).hasSize(d.globalSecondaryIndexes().size());
                var gsi = d.globalSecondaryIndexes().get(0);
                JsonNode templateGsi = table.get("GlobalSecondaryIndexes").get(0);
                assertThat(templateGsi.get("IndexName").asText()).isEqualTo(gsi.indexName());
                assertThat(keys(templateGsi.get("KeySchema"))).isEqualTo(gsi.keySchema().stream()
                        .map(k -> k.attributeName() + ":" + k.keyTypeAsString()).toList());
                assertThat(templateGsi.path("Projection").path("ProjectionType").asText())
                        .isEqualTo(gsi.projection().projectionTypeAsString());
                String ttl = dynamo.describeTimeToLive(b -> b.tableName(name)).timeToLiveDescription().attributeName();
                assertThat(table.path("TimeToLiveSpecification").path("AttributeName").asText()).isEqualTo(ttl);
                assertThat(table.path("TimeToLiveSpecification").path("Enabled").asBoolean()).isTrue();
            } finally {
                dynamo.deleteTable(b -> b.tableName(name));
            }
        }
    }

    private static List<String> keys(JsonNode schema) {
        return stream(schema).map(k -> k.get("AttributeName").asText() + ":" + k.get("KeyType").asText()).toList();
    }

    private static Stream<JsonNode> stream(JsonNode array) {
        List<JsonNode> out = new ArrayList<>();
        array.forEach(out::add);
        return out.stream();
    }

    @Test
    void theQueueOutlastsAWorkerAndItsLeaseAndFailuresAreReportedPerMessage() {
        JsonNode queue = resources.get("CopyQueue").get("Properties");
        long visibility = queue.path("VisibilityTimeout").asLong();
        long workerTimeout = functions().get("CopyWorker").path("Timeout").asLong();
        assertThat(Duration.ofSeconds(visibility))
                .isGreaterThanOrEqualTo(Duration.ofSeconds(workerTimeout).plus(MirrorJobs.LEASE))
                .isGreaterThanOrEqualTo(Duration.ofSeconds(6 * workerTimeout));
        assertThat(queue.path("RedrivePolicy").path("deadLetterTargetArn").path("Fn::GetAtt").get(0).asText())
                .isEqualTo("CopyDeadLetterQueue");

        JsonNode mapping = resources.get("CopyWorkerQueueMapping").get("Properties");
        assertThat(mapping.path("FunctionResponseTypes").get(0).asText()).isEqualTo("ReportBatchItemFailures");
        assertThat(mapping.path("ScalingConfig").path("MaximumConcurrency").path("Ref").asText())
                .isEqualTo("CopyMaxConcurrency");
        assertThat(mapping.path("FunctionName").path("Ref").asText()).isEqualTo("CopyWorker.Alias");
        assertThat(mapping.path("EventSourceArn").path("Fn::GetAtt").get(0).asText()).isEqualTo("CopyQueue");
    }

    @Test
    void theBucketIsPrivateEncryptedAndAbortsIncompleteUploads() {
        JsonNode bucket = resources.get("MirrorBucket").get("Properties");
        JsonNode block = bucket.path("PublicAccessBlockConfiguration");
        for (String f : List.of("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")) {
            assertThat(block.path(f).asBoolean()).as(f).isTrue();
        }
        assertThat(bucket.path("BucketEncryption").path("ServerSideEncryptionConfiguration")).isNotEmpty();
        assertThat(bucket.path("LifecycleConfiguration").path("Rules").get(0)
                .path("AbortIncompleteMultipartUpload").path("DaysAfterInitiation").asInt()).isPositive();
    }

    @Test
    void incompleteUploadsOutliveEveryRetryOfAContinuedCopy() {
        // A continued copy keeps its multipart upload in the job between invocations; the lifecycle
        // rule must not abort it while the queue may still deliver the job.
        int days = template.at("/Resources/MirrorBucket/Properties/LifecycleConfiguration/Rules/0/AbortIncompleteMultipartUpload"
                + "/DaysAfterInitiation").asInt();
        long visibility = template.at("/Resources/CopyQueue/Properties/VisibilityTimeout").asLong();
        long receives = template.at("/Parameters/CopyMaxReceiveCount/Default").asLong();
        assertThat(visibility * receives).as("seconds a job may still be delivered").isPositive()
                .isLessThan(days * 86_400L);
        assertThat(template.at("/Resources/CopyWorker/Properties/Timeout").asLong() - CopyWorkerHandler.MARGIN.toSeconds())
                .as("a copy's time budget in one invocation").isPositive();
    }

    @Test
    void theSweeperRunsOnAScheduleAndIsTheOnlyFunctionThatDeletes() {
        JsonNode sweeper = template.at("/Resources/Sweeper/Properties");
        assertThat(sweeper.path("Handler").asText()).isEqualTo("io.imagemirror.aws.handlers.SweeperHandler::handleRequest");
        JsonNode schedule = sweeper.at("/Events/Schedule");
        assertThat(schedule.path("Type").asText()).isEqualTo("ScheduleV2");
        assertThat(schedule.at("/Properties/ScheduleExpression/Ref").asText()).isEqualTo("SweepSchedule");
        assertThat(template.at("/Parameters/SweepSchedule/Default").asText()).isEqualTo("rate(1 day)");
        assertThat(sweeper.path("Timeout").asInt()).isEqualTo(900);
        template.path("Resources").fields().forEachRemaining(r -> {
            if (!r.getValue().path("Type").asText().equals("AWS::Serverless::Function")) {
                return;
            }
            List<JsonNode> statements = new java.util.ArrayList<>();
            r.getValue().at("/Properties/Policies").forEach(p -> collectStatements(p, statements));
            List<String> actions = new java.util.ArrayList<>();
            statements.forEach(st -> {
                JsonNode a = st.path("Action");
                if (a.isArray()) {
                    a.forEach(x -> actions.add(x.asText()));
                } else {
                    actions.add(a.asText());
                }
            });
            // Only the Sweeper deletes stored content; DeleteItem is also held by the functions that
            // delete sync rules and their old runs (MirrorApi for /v1/rules, SyncPlanner).
            assertThat(actions.contains("s3:DeleteObject")).as(r.getKey() + " may delete objects")
                    .isEqualTo(r.getKey().equals("Sweeper"));
            assertThat(actions.contains("dynamodb:DeleteItem")).as(r.getKey() + " may delete items")
                    .isEqualTo(List.of("Sweeper", "MirrorApi", "SyncPlanner").contains(r.getKey()));
            if (r.getKey().equals("MirrorApi")) {
                // DELETE /v1/images and POST /v1/prune: untag and delete records in transactions, no bytes
                assertThat(actions).contains("dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "dynamodb:PutItem");
            }
            if (r.getKey().equals("Sweeper")) {
                List<String> deletable = new java.util.ArrayList<>();
                statements.stream().filter(st -> st.path("Action").asText().equals("s3:DeleteObject"))
                        .forEach(st -> st.path("Resource").forEach(x -> deletable.add(x.path("Fn::Sub").asText())));
                assertThat(deletable).as("blobs and manifest bytes").containsExactlyInAnyOrder(
                        "${MirrorBucket.Arn}/blobs/*", "${MirrorBucket.Arn}/manifests/*");
            }
        });
    }

    @Test
    void theSyncPlannerRunsOnAnEventBridgeSchedulerRateThatIsAParameter() {
        JsonNode planner = functions().get("SyncPlanner");
        assertThat(planner.path("Handler").asText())
                .isEqualTo(io.imagemirror.aws.handlers.SyncPlannerHandler.class.getName() + "::handleRequest");
        JsonNode tick = planner.path("Events").path("Tick");
        assertThat(tick.path("Type").asText()).isEqualTo("ScheduleV2");
        assertThat(tick.path("Properties").path("ScheduleExpression").path("Fn::Sub").asText())
                .isEqualTo("rate(${SyncPlannerRate})");
        JsonNode rate = template.path("Parameters").path("SyncPlannerRate");
        assertThat(rate.path("Default").asText()).isEqualTo("1 minute");
        assertThat(java.util.regex.Pattern.matches(rate.path("AllowedPattern").asText(), "1 minute")).isTrue();
        assertThat(java.util.regex.Pattern.matches(rate.path("AllowedPattern").asText(), "5 minutes")).isTrue();
        assertThat(java.util.regex.Pattern.matches(rate.path("AllowedPattern").asText(), "5 minute")).isFalse();
        // it sends copy jobs and reads/writes the table; it never touches the bucket's objects
        String policies = planner.path("Policies").toString();
        assertThat(policies).contains("sqs:SendMessage").contains("dynamodb:Query").doesNotContain("s3:PutObject")
                .doesNotContain("s3:GetObject").doesNotContain("sqs:ReceiveMessage");
    }
}

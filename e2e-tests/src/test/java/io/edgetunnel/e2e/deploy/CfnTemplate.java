package io.edgetunnel.e2e.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A CloudFormation template evaluated the way CloudFormation would for one stack: parameters from a
 * parameter file over the defaults, conditions, {@code Ref}, {@code Fn::Sub}, {@code Fn::If},
 * {@code Fn::Select}/{@code Split}/{@code Join}, imports from another stack's exports. What only AWS
 * knows (a resource's physical id) becomes a stable placeholder, or what the resource's own
 * properties say (a cluster's name, a secret's ARN from its name). Enough to read a container's
 * environment exactly as ECS would hand it over.
 */
final class CfnTemplate {

    private static final Object NO_VALUE = new Object();
    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{([^}!][^}]*)}");

    private final Map<String, Object> template;
    private final Map<String, String> params = new LinkedHashMap<>();
    private final Map<String, String> imports;
    private final String stackName;

    @SuppressWarnings("unchecked")
    CfnTemplate(Path templateFile, Path paramsFile, String stackName, Map<String, String> imports) {
        this.stackName = stackName;
        this.imports = imports;
        try {
            this.template = (Map<String, Object>) new Yaml(new IntrinsicTags()).load(Files.readString(templateFile));
            Map<String, Object> declared = (Map<String, Object>) template.get("Parameters");
            declared.forEach((name, spec) -> {
                Object fallback = ((Map<String, Object>) spec).get("Default");
                if (fallback != null) {
                    params.put(name, fallback instanceof List<?> list ? String.join(",", (List<String>) list)
                            : String.valueOf(fallback));
                }
            });
            for (JsonNode parameter : JsonMapper.builder().build().readTree(Files.readString(paramsFile))) {
                params.put(parameter.get("ParameterKey").asString(), parameter.get("ParameterValue").asString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The exports of this stack, name → value, as another stack's {@code Fn::ImportValue} sees them. */
    @SuppressWarnings("unchecked")
    Map<String, String> exports() {
        Map<String, String> exports = new LinkedHashMap<>();
        ((Map<String, Object>) template.get("Outputs")).forEach((name, output) -> {
            Map<String, Object> spec = (Map<String, Object>) output;
            if (spec.get("Export") instanceof Map<?, ?> export && (spec.get("Condition") == null
                    || condition((String) spec.get("Condition")))) {
                exports.put(String.valueOf(evaluate(export.get("Name"))), String.valueOf(evaluate(spec.get("Value"))));
            }
        });
        return exports;
    }

    /** The environment and secrets of container {@code name}, as the task definition gives them to ECS. */
    @SuppressWarnings("unchecked")
    ContainerEnvironment container(String name) {
        for (Object resource : ((Map<String, Object>) template.get("Resources")).values()) {
            Map<String, Object> spec = (Map<String, Object>) resource;
            if (!"AWS::ECS::TaskDefinition".equals(spec.get("Type"))) {
                continue;
            }
            Map<String, Object> properties = (Map<String, Object>) spec.get("Properties");
            for (Object container : (List<Object>) properties.get("ContainerDefinitions")) {
                Map<String, Object> definition = (Map<String, Object>) container;
                if (!name.equals(definition.get("Name"))) {
                    continue;
                }
                Map<String, String> environment = new LinkedHashMap<>();
                for (Object entry : (List<Object>) evaluate(definition.getOrDefault("Environment", List.of()))) {
                    Map<String, Object> pair = (Map<String, Object>) entry;
                    environment.put((String) pair.get("Name"), String.valueOf(pair.get("Value")));
                }
                Map<String, String> secrets = new LinkedHashMap<>();
                for (Object entry : (List<Object>) evaluate(definition.getOrDefault("Secrets", List.of()))) {
                    Map<String, Object> pair = (Map<String, Object>) entry;
                    secrets.put((String) pair.get("Name"), String.valueOf(pair.get("ValueFrom")));
                }
                return new ContainerEnvironment(environment, secrets);
            }
        }
        throw new IllegalArgumentException("no container " + name + " in any task definition");
    }

    @SuppressWarnings("unchecked")
    boolean condition(String name) {
        Object expression = ((Map<String, Object>) template.get("Conditions")).get(name);
        if (expression == null) {
            throw new IllegalArgumentException("undefined condition " + name);
        }
        return (Boolean) evaluate(expression);
    }

    @SuppressWarnings("unchecked")
    Object evaluate(Object expression) {
        if (expression instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            for (Object item : list) {
                Object value = evaluate(item);
                if (value != NO_VALUE) {
                    out.add(value);
                }
            }
            return out;
        }
        if (!(expression instanceof Map<?, ?> map)) {
            return expression == null ? null : expression instanceof Boolean ? expression : String.valueOf(expression);
        }
        if (map.size() == 1) {
            String key = (String) map.keySet().iterator().next();
            if (key.equals("Ref") || key.equals("Condition") || key.startsWith("Fn::")) {
                return intrinsic(key, map.get(key));
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        ((Map<String, Object>) map).forEach((key, value) -> {
            Object evaluated = evaluate(value);
            if (evaluated != NO_VALUE) {
                out.put(key, evaluated);
            }
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    private Object intrinsic(String function, Object argument) {
        List<Object> args = argument instanceof List<?> list ? (List<Object>) list : List.of();
        return switch (function) {
            case "Ref" -> ref((String) argument);
            case "Condition" -> condition((String) argument);
            case "Fn::If" -> evaluate(condition((String) args.get(0)) ? args.get(1) : args.get(2));
            case "Fn::Equals" -> String.valueOf(evaluate(args.get(0))).equals(String.valueOf(evaluate(args.get(1))));
            case "Fn::Not" -> !(Boolean) evaluate(args.get(0));
            case "Fn::And" -> args.stream().allMatch(a -> (Boolean) evaluate(a));
            case "Fn::Or" -> args.stream().anyMatch(a -> (Boolean) evaluate(a));
            case "Fn::Join" -> String.join((String) args.get(0), ((List<Object>) evaluate(args.get(1))).stream()
                    .map(String::valueOf).toList());
            case "Fn::Select" -> ((List<Object>) evaluate(args.get(1))).get(Integer.parseInt(String.valueOf(evaluate(args.get(0)))));
            case "Fn::Split" -> List.of(((String) evaluate(args.get(1))).split(Pattern.quote((String) args.get(0)), -1));
            case "Fn::ImportValue" -> {
                String name = String.valueOf(evaluate(argument));
                String value = imports.get(name);
                if (value == null) {
                    throw new IllegalArgumentException("import " + name + " is no export of the other stack " + imports.keySet());
                }
                yield value;
            }
            case "Fn::GetAtt" -> attribute(args.isEmpty() ? String.valueOf(argument) : args.get(0) + "." + args.get(1));
            case "Fn::Sub" -> sub(argument);
            default -> throw new IllegalArgumentException("intrinsic " + function + " is not evaluated here");
        };
    }

    @SuppressWarnings("unchecked")
    private Object sub(Object argument) {
        String text = argument instanceof List<?> list ? (String) list.get(0) : (String) argument;
        Map<String, Object> variables = argument instanceof List<?> list && list.size() > 1
                ? (Map<String, Object>) list.get(1) : Map.of();
        Matcher m = SUB_VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            Object value = variables.containsKey(name) ? evaluate(variables.get(name))
                    : name.contains(".") && !name.startsWith("AWS::") ? attribute(name) : ref(name);
            m.appendReplacement(out, Matcher.quoteReplacement(String.valueOf(value)));
        }
        m.appendTail(out);
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private Object ref(String name) {
        if (params.containsKey(name)) {
            return params.get(name);
        }
        switch (name) {
            case "AWS::NoValue":
                return NO_VALUE;
            case "AWS::Region":
                return "eu-west-1";
            case "AWS::AccountId":
                return "111122223333";
            case "AWS::Partition":
                return "aws";
            case "AWS::StackName":
                return stackName;
            case "AWS::URLSuffix":
                return "amazonaws.com";
            default:
                break;
        }
        Map<String, Object> resource = (Map<String, Object>) ((Map<String, Object>) template.get("Resources")).get(name);
        if (resource == null) {
            throw new IllegalArgumentException("Ref to undefined " + name);
        }
        Map<String, Object> properties = (Map<String, Object>) resource.getOrDefault("Properties", Map.of());
        return switch ((String) resource.get("Type")) {
            // what Ref returns for these types (CloudFormation resource reference, "Return values")
            case "AWS::ECS::Cluster" -> properties.containsKey("ClusterName") ? evaluate(properties.get("ClusterName")) : stackName + "-" + name;
            case "AWS::SecretsManager::Secret" -> "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"
                    + (properties.containsKey("Name") ? evaluate(properties.get("Name")) : stackName + "-" + name) + "-AbCdEf";
            default -> stackName + "-" + name;
        };
    }

    private String attribute(String resourceAndAttribute) {
        return resourceAndAttribute.toLowerCase(java.util.Locale.ROOT).replace('.', '-') + ".placeholder.internal";
    }

    /** Short-form tags ({@code !Ref}, {@code !Sub}, …) read as their long form, {@code {"Fn::Sub": …}}. */
    private static final class IntrinsicTags extends SafeConstructor {
        IntrinsicTags() {
            super(new LoaderOptions());
            yamlConstructors.put(null, new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    String tag = node.getTag().getValue().substring(1);
                    String key = tag.equals("Ref") || tag.equals("Condition") ? tag : "Fn::" + tag;
                    Object value;
                    if (node instanceof ScalarNode scalar) {
                        value = tag.equals("GetAtt") ? List.of(constructScalar(scalar).split("\\.", 2)) : constructScalar(scalar);
                    } else if (node instanceof SequenceNode sequence) {
                        value = constructSequence(sequence);
                    } else if (node instanceof MappingNode mapping) {
                        value = constructMapping(mapping);
                    } else {
                        throw new IllegalArgumentException("tag " + tag + " on " + node.getNodeId());
                    }
                    return Map.of(key, value);
                }
            });
        }
    }

    /** What a container gets: plain variables, and secrets by the ARN ECS reads them from. */
    record ContainerEnvironment(Map<String, String> environment, Map<String, String> secrets) {}
}

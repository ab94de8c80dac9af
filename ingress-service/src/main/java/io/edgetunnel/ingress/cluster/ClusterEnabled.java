package io.edgetunnel.ingress.cluster;

import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Whether {@code ingress.cluster.redis-url} is set to something (an empty variable means off). */
final class ClusterEnabled {

    private ClusterEnabled() {}

    static boolean enabled(ConditionContext context) {
        String url = context.getEnvironment().getProperty("ingress.cluster.redis-url");
        return url != null && !url.isBlank();
    }

    static final class On implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return enabled(context);
        }
    }

    static final class Off implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            return !enabled(context);
        }
    }
}

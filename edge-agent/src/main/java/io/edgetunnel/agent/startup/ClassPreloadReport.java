package io.edgetunnel.agent.startup;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/** Logs, once the agent is started, what the {@link ClassPreloader} did (it cannot log itself). */
@Component
class ClassPreloadReport implements ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(ClassPreloadReport.class);

    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        PreloadResult result = ClassPreloader.lastRun();
        if (result == null) {
            log.debug("Class preloader off or still running");
        } else if (!result.listFound()) {
            log.warn("Class preloader: no {} in the agent's jar; start is slower", ClassPreloader.CLASS_LIST);
        } else if (result.error() != null) {
            log.warn("Class preloader: could not read {}: {}", ClassPreloader.CLASS_LIST, result.error());
        } else {
            log.info("Class preloader loaded {} classes in {} ms ({} listed names not on this class path)",
                    result.loaded(), result.duration().toMillis(), result.skipped());
        }
    }
}

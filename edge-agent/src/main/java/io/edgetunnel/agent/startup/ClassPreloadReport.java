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
        String message = describe(result);
        if (result == null) {
            log.debug(message);
        } else if (result.outcome() == PreloadResult.Outcome.DONE || result.outcome() == PreloadResult.Outcome.RUNNING) {
            log.info(message);
        } else {
            log.warn(message);
        }
    }

    static String describe(PreloadResult result) {
        if (result == null) {
            return "Class preloader off (" + ClassPreloader.SWITCH_ENVIRONMENT + "=false, or one CPU)";
        }
        return switch (result.outcome()) {
            case RUNNING -> "Class preloader still loading classes";
            case DONE -> "Class preloader loaded " + result.loaded() + " classes in " + result.duration().toMillis()
                    + " ms (" + result.skipped() + " listed names not on this class path)";
            case NO_LIST -> "Class preloader: no " + ClassPreloader.CLASS_LIST + " in the agent's jar; start is slower";
            case FAILED -> "Class preloader failed, start is slower: " + result.error();
        };
    }
}

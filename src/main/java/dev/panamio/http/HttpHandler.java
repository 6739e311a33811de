package dev.panamio.http;

/**
 * Answers requests; runs on the loop thread. It must call {@link HttpResponse#send} exactly once, now or
 * later (from the loop thread): responses go out in request order, so a pipelined response waits for the
 * ones before it.
 */
@FunctionalInterface
public interface HttpHandler {
    /**
     * Handles one request.
     *
     * @param request  the request
     * @param response where the answer goes
     */
    void handle(HttpRequest request, HttpResponse response);
}

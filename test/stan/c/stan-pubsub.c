/* Publishes and subscribes through libnats' streaming API (Debian libnats-dev) against tstan.
 * Usage: stan-pubsub <url> <cluster-id> <client-id> <channel> <publish-count> <expect-count>
 * Publishes <publish-count> messages "c-<i>", then subscribes with DeliverAllAvailable and prints
 * "<seq> <data>" for each of the first <expect-count> messages; exits non-zero on any error.
 * TLS from the environment, when set: STAN_TLS_CA (trusted CA file: TLS on, the server's
 * certificate verified for the host name "localhost"), STAN_TLS_CERT and STAN_TLS_KEY (a client
 * certificate). On a failed connect, libnats' last error text goes to stderr as well. */
#define NATS_HAS_STREAMING
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int received;
    int expected;
} state_t;

static void on_msg(stanConnection *sc, stanSubscription *sub, const char *channel, stanMsg *msg, void *closure) {
    state_t *st = (state_t *) closure;
    (void) sc; (void) sub; (void) channel;
    printf("%llu %.*s\n", (unsigned long long) stanMsg_GetSequence(msg), stanMsg_GetDataLength(msg), stanMsg_GetData(msg));
    fflush(stdout);
    stanMsg_Destroy(msg);
    pthread_mutex_lock(&st->mu);
    st->received++;
    pthread_cond_signal(&st->cond);
    pthread_mutex_unlock(&st->mu);
}

static int fail(const char *what, natsStatus s) {
    natsStatus last = NATS_OK;
    const char *detail = nats_GetLastError(&last);
    fprintf(stderr, "%s: %s (%s)\n", what, natsStatus_GetText(s), detail != NULL ? detail : "");
    return 1;
}

/* NULL without STAN_TLS_CA: the connection stays plain. */
static natsStatus tls_options(natsOptions **out) {
    const char *ca = getenv("STAN_TLS_CA");
    const char *cert = getenv("STAN_TLS_CERT");
    const char *key = getenv("STAN_TLS_KEY");
    natsStatus s;
    *out = NULL;
    if (ca == NULL) return NATS_OK;
    if ((s = natsOptions_Create(out)) != NATS_OK) return s;
    if ((s = natsOptions_SetSecure(*out, true)) != NATS_OK) return s;
    if ((s = natsOptions_LoadCATrustedCertificates(*out, ca)) != NATS_OK) return s;
    if ((s = natsOptions_SetExpectedHostname(*out, "localhost")) != NATS_OK) return s;
    if (cert != NULL && key != NULL) s = natsOptions_LoadCertificatesChain(*out, cert, key);
    return s;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: %s url cluster client channel publish expect\n", argv[0]); return 2; }
    const char *channel = argv[4];
    int publish = atoi(argv[5]);
    state_t st = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, atoi(argv[6]) };
    stanConnOptions *copts = NULL;
    natsOptions *nopts = NULL;
    stanSubOptions *sopts = NULL;
    stanConnection *sc = NULL;
    stanSubscription *sub = NULL;
    natsStatus s;

    if ((s = stanConnOptions_Create(&copts)) != NATS_OK) return fail("options", s);
    if ((s = stanConnOptions_SetURL(copts, argv[1])) != NATS_OK) return fail("url", s);
    if ((s = tls_options(&nopts)) != NATS_OK) return fail("tls options", s);
    if (nopts != NULL && (s = stanConnOptions_SetNATSOptions(copts, nopts)) != NATS_OK) return fail("nats options", s);
    if ((s = stanConnection_Connect(&sc, argv[2], argv[3], copts)) != NATS_OK) return fail("connect", s);
    for (int i = 1; i <= publish; i++) {
        char data[32];
        int len = snprintf(data, sizeof data, "c-%d", i);
        if ((s = stanConnection_Publish(sc, channel, data, len)) != NATS_OK) return fail("publish", s);
    }
    if ((s = stanSubOptions_Create(&sopts)) != NATS_OK) return fail("sub options", s);
    if ((s = stanSubOptions_DeliverAllAvailable(sopts)) != NATS_OK) return fail("deliver all", s);
    if ((s = stanConnection_Subscribe(&sub, sc, channel, on_msg, &st, sopts)) != NATS_OK) return fail("subscribe", s);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&st.mu);
    while (st.received < st.expected) {
        if (pthread_cond_timedwait(&st.cond, &st.mu, &deadline) != 0) {
            pthread_mutex_unlock(&st.mu);
            fprintf(stderr, "timeout: received %d of %d\n", st.received, st.expected);
            return 1;
        }
    }
    pthread_mutex_unlock(&st.mu);
    if ((s = stanSubscription_Unsubscribe(sub)) != NATS_OK) return fail("unsubscribe", s);
    stanSubscription_Destroy(sub);
    if ((s = stanConnection_Close(sc)) != NATS_OK) return fail("close", s);
    stanConnection_Destroy(sc);
    stanSubOptions_Destroy(sopts);
    stanConnOptions_Destroy(copts);
    natsOptions_Destroy(nopts);
    nats_Close();
    return 0;
}

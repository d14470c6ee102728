/* The STAN benchmark workloads W1-W4 on libnats' streaming API (Debian libnats-dev), so that the
 * client is not what saturates: node-nats-streaming tops out well below what the server can do.
 * Usage: stan-bench --url U --workload W1|W2|W3|W4 --count N [--cluster ID] [--subs K]
 *                   [--window 16384] [--size 128] [--timeout-s 120] [--id PREFIX]
 *                   [--jetstream memory|file]
 * Prints one JSON line; exits 1 when a message or an ack is missing, out of order or failed.
 * --jetstream runs the same workloads on plain NATS connections against JetStream (nats-server -js),
 * so that one client measures both servers: stream BENCH_Wn (subject bench_wn, 1 replica, that
 * storage, default limits) instead of channel wn; async publishes through the JetStream context
 * under the same window; subscribers as ephemeral push consumers (deliver all, explicit ack,
 * MaxAckPending 1024 like STAN's MaxInflight, the library's ack after each callback like STAN's
 * auto-ack). --cluster and --id are ignored; the JSON line gains "jetstream":"memory"|"file".
 * Every publish carries its send time (CLOCK_MONOTONIC ns, bytes 0-7), its index (bytes 8-11, the
 * warm-up publish UINT32_MAX) and this run's nonce (bytes 12-15): publisher and subscribers live in
 * this one process, so their clocks agree, and messages left on the channel by an earlier run
 * against the same server are recognised and skipped instead of counted.
 * Client CPU is getrusage over the measured interval, summed over all of libnats' threads. The lines
 * "MARK start" and "MARK end" bracket that interval, so that a driver can read the server's CPU
 * over exactly the same interval. */
#define NATS_HAS_STREAMING
#include <nats/nats.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "latency.h"

#define SUBS_MAX 64

typedef struct {
    const char *url, *cluster, *workload, *id;
    int count, subs, window, size, timeout_s;
    const char *jetstream; /* NULL: STAN; "memory" or "file": JetStream with that storage */
} config_t;

/* One connection of either kind: STAN (sc), or NATS (nc) with its JetStream context (js). */
typedef struct {
    stanConnection *sc;
    natsConnection *nc;
    jsCtx *js;
} conn_t;

/* The publisher's window: at most `window` PubAcks outstanding, a new publish when an ack arrives. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int outstanding, window, waiting, count;
    int acked, errors, duplicates;
    int64_t *sent_ns;      /* per message: send time */
    double *ack_ms;        /* per message: ack latency */
    unsigned char *seen;   /* per message: ack received */
    int64_t last_ack_ns;
    char first_error[256];
} publisher_t;

typedef struct subscriber {
    struct subscriber_set *set;
    int index;
    uint64_t next_seq;     /* the sequence the next delivery of this run must carry (0: none seen yet) */
    uint32_t next_index;   /* the index it must carry */
    int received, out_of_order, redelivered;
    int samples;           /* end-to-end latencies in e2e_ms */
    double *e2e_ms;        /* this subscriber's slice of the set's array: no lock per message */
    int64_t done_ns;
} subscriber_t;

typedef struct subscriber_set {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int expected;          /* deliveries of this run per subscriber, the warm-up message included */
    uint32_t nonce;
    int done;              /* subscribers that have all */
    double *e2e_ms;        /* count samples per subscriber, each subscriber writing its own slice */
    subscriber_t subs[SUBS_MAX];
} subscriber_set_t;

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;
}

/* Tells the driver that the timed interval starts or ends (see the header). */
static void mark(const char *what) {
    printf("MARK %s\n", what);
    fflush(stdout);
}

static void deadline_in(struct timespec *deadline, int seconds) {
    clock_gettime(CLOCK_REALTIME, deadline);
    deadline->tv_sec += seconds;
}

static publisher_t pub;
static subscriber_set_t set;

static void record_ack(int64_t t, int index, const char *error) {
    pthread_mutex_lock(&pub.mu);
    if (error == NULL && (index < 0 || index >= pub.count)) error = "ack for a message not published";
    if (error != NULL) {
        if (pub.errors++ == 0) snprintf(pub.first_error, sizeof pub.first_error, "%s", error);
    } else if (pub.seen[index]) {
        pub.duplicates++;
    } else {
        pub.seen[index] = 1;
        pub.ack_ms[pub.acked++] = (t - pub.sent_ns[index]) / 1e6;
    }
    pub.outstanding--;
    pub.last_ack_ns = t;
    if (pub.waiting) pthread_cond_broadcast(&pub.cond);
    pthread_mutex_unlock(&pub.mu);
}

static void on_pub_ack(const char *guid, const char *error, void *closure) {
    (void) guid;
    record_ack(now_ns(), (int) (intptr_t) closure, error);
}

/* JetStream hands the ack the original message, not a closure: the index comes from its payload.
 * The handler owns that message (nats.h, jsPubAckHandler) and destroys it, one per publish. */
static void on_js_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure) {
    int64_t t = now_ns();
    uint32_t index = UINT32_MAX;
    char error[300];
    (void) js; (void) pa; (void) closure;
    if (natsMsg_GetDataLength(msg) >= 12) memcpy(&index, natsMsg_GetData(msg) + 8, sizeof index);
    natsMsg_Destroy(msg);
    if (pae != NULL) snprintf(error, sizeof error, "%s (%d)", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err), (int) pae->ErrCode);
    record_ack(t, index == UINT32_MAX ? -1 : (int) index, pae != NULL ? error : NULL);
}

static uint32_t run_nonce;

static void fill_payload(char *payload, int size, int64_t t, uint32_t index) {
    memset(payload, 0, size);
    memcpy(payload, &t, sizeof t);
    memcpy(payload + 8, &index, sizeof index);
    memcpy(payload + 12, &run_nonce, sizeof run_nonce);
}

static natsStatus publish_sync(const conn_t *c, const char *channel, const char *payload, int size) {
    if (c->js != NULL) return js_Publish(NULL, c->js, channel, payload, size, NULL, NULL);
    return stanConnection_Publish(c->sc, channel, payload, size);
}

/* Publishes `count` messages keeping at most `window` unacknowledged; waits for every ack. */
static natsStatus publish_windowed(const conn_t *c, const char *channel, const config_t *cfg, char *payload) {
    struct timespec deadline;
    natsStatus s = NATS_OK;
    deadline_in(&deadline, cfg->timeout_s);
    for (int i = 0; i < cfg->count && s == NATS_OK; i++) {
        pthread_mutex_lock(&pub.mu);
        while (pub.outstanding >= pub.window) {
            pub.waiting = 1;
            if (pthread_cond_timedwait(&pub.cond, &pub.mu, &deadline) != 0) {
                pthread_mutex_unlock(&pub.mu);
                return NATS_TIMEOUT;
            }
        }
        pub.waiting = 0;
        pub.outstanding++;
        pthread_mutex_unlock(&pub.mu);
        int64_t t = now_ns();
        pub.sent_ns[i] = t;
        fill_payload(payload, cfg->size, t, (uint32_t) i);
        if (c->js != NULL) s = js_PublishAsync(c->js, channel, payload, cfg->size, NULL);
        else s = stanConnection_PublishAsync(c->sc, channel, payload, cfg->size, on_pub_ack, (void *) (intptr_t) i);
    }
    pthread_mutex_lock(&pub.mu);
    pub.waiting = 1;
    while (s == NATS_OK && pub.outstanding > 0) {
        if (pthread_cond_timedwait(&pub.cond, &pub.mu, &deadline) != 0) s = NATS_TIMEOUT;
    }
    pub.waiting = 0;
    pthread_mutex_unlock(&pub.mu);
    return s;
}

/* One delivery, at time t, of sequence seq (STAN: the channel's; JetStream: the stream's) with the
 * payload's first 16 bytes in `head`. */
static void on_delivery(subscriber_t *me, int64_t t, uint64_t seq, bool redelivered, const char *head) {
    subscriber_set_t *all = me->set;
    int64_t sent;
    uint32_t index, nonce;
    memcpy(&sent, head, sizeof sent);
    memcpy(&index, head + 8, sizeof index);
    memcpy(&nonce, head + 12, sizeof nonce);
    if (nonce != run_nonce) return; /* left by an earlier run */
    if (redelivered) me->redelivered++;
    /* This run's messages come as one gapless run of sequences: the warm-up, then indexes 0, 1, ... */
    if (me->next_seq == 0) {
        if (index != UINT32_MAX) me->out_of_order++;
        me->next_index = 0;
    } else {
        if (seq != me->next_seq || index != me->next_index) me->out_of_order++;
        me->next_index = index + 1;
        if (me->samples < all->expected - 1) me->e2e_ms[me->samples++] = (t - sent) / 1e6;
    }
    me->next_seq = seq + 1;
    if (++me->received == all->expected) {
        me->done_ns = t;
        pthread_mutex_lock(&all->mu);
        all->done++;
        pthread_cond_broadcast(&all->cond);
        pthread_mutex_unlock(&all->mu);
    }
}

static void on_msg(stanConnection *sc, stanSubscription *sub, const char *channel, stanMsg *msg, void *closure) {
    int64_t t = now_ns();
    char head[16];
    (void) sc; (void) sub; (void) channel;
    int ok = stanMsg_GetDataLength(msg) >= 16;
    if (ok) memcpy(head, stanMsg_GetData(msg), sizeof head);
    uint64_t seq = stanMsg_GetSequence(msg);
    bool redelivered = stanMsg_IsRedelivered(msg);
    stanMsg_Destroy(msg);
    if (ok) on_delivery((subscriber_t *) closure, t, seq, redelivered, head);
}

/* The stream sequence and the delivery count come from the ack subject's metadata. The library
 * sends the ack (a plain publish, not a request) once this returns, from its own copy of the
 * reply subject, so the message is ours to destroy here as for any NATS callback. */
static void on_js_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    int64_t t = now_ns();
    char head[16];
    jsMsgMetaData *meta = NULL;
    (void) nc; (void) sub;
    int ok = natsMsg_GetDataLength(msg) >= 16 && natsMsg_GetMetaData(&meta, msg) == NATS_OK;
    if (ok) {
        memcpy(head, natsMsg_GetData(msg), sizeof head);
        on_delivery((subscriber_t *) closure, t, meta->Sequence.Stream, meta->NumDelivered > 1, head);
    }
    jsMsgMetaData_Destroy(meta);
    natsMsg_Destroy(msg);
}

/* ",\"jetstream\":\"memory\"" after the workload in JetStream mode, nothing in STAN mode. */
static const char *jetstream_field(const config_t *cfg) {
    static char field[32];
    if (cfg->jetstream == NULL) return "";
    snprintf(field, sizeof field, ",\"jetstream\":\"%s\"", cfg->jetstream);
    return field;
}

static int fail(const config_t *cfg, const char *what, natsStatus s) {
    printf("{\"client\":\"c-libnats\",\"workload\":\"%s\"%s,\"error\":\"%s: %s\"}\n", cfg->workload, jetstream_field(cfg), what,
           natsStatus_GetText(s));
    fprintf(stderr, "%s: %s\n", what, natsStatus_GetText(s));
    nats_PrintLastErrorStack(stderr);
    return 1;
}

static natsStatus stan_connect(stanConnection **sc, const config_t *cfg, const char *client_id) {
    stanConnOptions *opts = NULL;
    natsStatus s = stanConnOptions_Create(&opts);
    if (s == NATS_OK) s = stanConnOptions_SetURL(opts, cfg->url);
    if (s == NATS_OK) s = stanConnOptions_SetConnectionWait(opts, 10000);
    /* Our own window (publish_windowed) does the limiting: the library must never block a publish,
     * or the wait would count in the ack latency. */
    if (s == NATS_OK) s = stanConnOptions_SetMaxPubAcksInflight(opts, cfg->window + 1, 1.0f);
    if (s == NATS_OK) s = stanConnection_Connect(sc, cfg->cluster, client_id, opts);
    stanConnOptions_Destroy(opts);
    return s;
}

static natsStatus js_connect(natsConnection **nc, jsCtx **js, const config_t *cfg) {
    natsOptions *opts = NULL;
    jsOptions jo;
    natsStatus s = natsOptions_Create(&opts);
    if (s == NATS_OK) s = natsOptions_SetURL(opts, cfg->url);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 10000);
    if (s == NATS_OK) s = natsConnection_Connect(nc, opts);
    natsOptions_Destroy(opts);
    if (s == NATS_OK) s = jsOptions_Init(&jo);
    if (s == NATS_OK) {
        jo.Wait = 30000; /* API requests and sync publishes: STAN's default PubAckWait */
        /* As for STAN, our window does the limiting and the library must never stall a publish. Its
         * count drops only after the ack handler returns, which has already opened our window: +1. */
        jo.PublishAsync.MaxPending = cfg->window + 1;
        jo.PublishAsync.StallWait = (int64_t) cfg->timeout_s * 1000;
        jo.PublishAsync.AckHandler = on_js_ack;
        s = natsConnection_JetStream(js, *nc, &jo);
    }
    return s;
}

static natsStatus bench_connect(conn_t *c, const config_t *cfg, const char *client_id) {
    return cfg->jetstream != NULL ? js_connect(&c->nc, &c->js, cfg) : stan_connect(&c->sc, cfg, client_id);
}

static void bench_close(conn_t *c) {
    if (c->js != NULL) jsCtx_Destroy(c->js);
    if (c->nc != NULL) {
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    if (c->sc != NULL) {
        stanConnection_Close(c->sc);
        stanConnection_Destroy(c->sc);
    }
    *c = (conn_t) { 0 };
}

/* The stream BENCH_Wn on subject bench_wn. A stream of that name left by an earlier run is reused
 * (the nonce skips its messages), but only with the storage asked for, or the figures would be
 * labelled with the wrong one. */
static natsStatus add_stream(const conn_t *c, const config_t *cfg, const char *subject) {
    jsStreamConfig sc;
    jsStreamInfo *si = NULL;
    jsErrCode err = 0;
    char name[16];
    const char *subjects[] = { subject };
    snprintf(name, sizeof name, "BENCH_W%c", cfg->workload[1]);
    jsStreamConfig_Init(&sc);
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = strcmp(cfg->jetstream, "memory") == 0 ? js_MemoryStorage : js_FileStorage;
    sc.Replicas = 1;
    natsStatus s = js_AddStream(&si, c->js, &sc, NULL, &err);
    if (s != NATS_OK && err == JSStreamNameExistErr) s = js_GetStreamInfo(&si, c->js, name, NULL, &err);
    if (s == NATS_OK && si->Config->Storage != sc.Storage) s = NATS_MISMATCH;
    jsStreamInfo_Destroy(si);
    return s;
}

static void print_common(const config_t *cfg, double seconds, double cpu) {
    printf("{\"client\":\"c-libnats\",\"workload\":\"%s\"%s,\"messages\":%d,\"seconds\":%.6f,\"msgsPerSec\":%.1f,",
           cfg->workload, jetstream_field(cfg), cfg->count, seconds, seconds > 0 ? cfg->count / seconds : 0);
    printf("\"clientCpuSec\":%.3f,\"clientPeakRssMb\":%.1f,", cpu, peak_rss_mb());
}

static void print_acks(void) {
    qsort(pub.ack_ms, pub.acked, sizeof(double), compare_double);
    printf("\"acked\":%d,\"ackErrors\":%d,\"duplicateAcks\":%d,\"ackP50Ms\":%.3f,\"ackP99Ms\":%.3f",
           pub.acked, pub.errors, pub.duplicates, percentile(pub.ack_ms, pub.acked, 50), percentile(pub.ack_ms, pub.acked, 99));
}

static int run_w1(const config_t *cfg, const conn_t *c, const char *channel, char *payload) {
    mark("start");
    int64_t start = now_ns();
    double cpu = cpu_seconds();
    natsStatus s = publish_windowed(c, channel, cfg, payload);
    mark("end");
    double seconds = (pub.last_ack_ns - start) / 1e9;
    print_common(cfg, seconds, cpu_seconds() - cpu);
    print_acks();
    printf(",\"status\":\"%s\"}\n", natsStatus_GetText(s));
    return s != NATS_OK || pub.acked != cfg->count || pub.errors != 0;
}

static int run_w2(const config_t *cfg, const conn_t *c, const char *channel, char *payload) {
    double *latency_ms = calloc(cfg->count, sizeof(double));
    natsStatus s = NATS_OK;
    int done = 0;
    mark("start");
    int64_t start = now_ns();
    double cpu = cpu_seconds();
    for (; done < cfg->count && s == NATS_OK; done++) {
        int64_t t = now_ns();
        fill_payload(payload, cfg->size, t, (uint32_t) done);
        s = publish_sync(c, channel, payload, cfg->size);
        latency_ms[done] = (now_ns() - t) / 1e6;
    }
    mark("end");
    double seconds = (now_ns() - start) / 1e9;
    print_common(cfg, seconds, cpu_seconds() - cpu);
    qsort(latency_ms, done, sizeof(double), compare_double);
    printf("\"acked\":%d,\"p50Ms\":%.3f,\"p90Ms\":%.3f,\"p99Ms\":%.3f,\"maxMs\":%.3f,\"status\":\"%s\"}\n", s == NATS_OK ? done : done - 1,
           percentile(latency_ms, done, 50), percentile(latency_ms, done, 90), percentile(latency_ms, done, 99),
           done > 0 ? latency_ms[done - 1] : 0, natsStatus_GetText(s));
    free(latency_ms);
    return s != NATS_OK;
}

/* W3 and W4: subscribers (each on its own connection, subscribed first, all available, auto-ack),
 * then one windowed publisher; timed from the first publish until every subscriber has all. */
static int run_fan_out(const config_t *cfg, const conn_t *pub_conn, const char *channel, char *payload) {
    conn_t conns[SUBS_MAX] = { 0 };
    stanSubscription *subs[SUBS_MAX] = { 0 };
    natsSubscription *js_subs[SUBS_MAX] = { 0 };
    stanSubOptions *sopts = NULL;
    jsSubOptions jso;
    char stream[16];
    natsStatus s = NATS_OK;
    if (cfg->jetstream == NULL) {
        s = stanSubOptions_Create(&sopts);
        if (s == NATS_OK) s = stanSubOptions_DeliverAllAvailable(sopts);
    } else {
        /* An ephemeral push consumer bound to the stream: everything in it, each message acked by
         * the library after the callback, at most 1024 unacked (STAN's default MaxInflight). */
        snprintf(stream, sizeof stream, "BENCH_W%c", cfg->workload[1]);
        s = jsSubOptions_Init(&jso);
        jso.Stream = stream;
        jso.ManualAck = false;
        jso.Config.DeliverPolicy = js_DeliverAll;
        jso.Config.AckPolicy = js_AckExplicit;
        jso.Config.MaxAckPending = 1024;
    }
    set.expected = cfg->count + 1;
    set.e2e_ms = calloc((size_t) cfg->count * cfg->subs, sizeof(double));
    for (int i = 0; i < cfg->subs && s == NATS_OK; i++) {
        char id[128];
        snprintf(id, sizeof id, "%s-%s-sub-%d", cfg->id, channel, i);
        set.subs[i] = (subscriber_t) { .set = &set, .index = i, .e2e_ms = set.e2e_ms + (size_t) i * cfg->count };
        s = bench_connect(&conns[i], cfg, id);
        if (s == NATS_OK && cfg->jetstream != NULL)
            s = js_Subscribe(&js_subs[i], conns[i].js, channel, on_js_msg, &set.subs[i], NULL, &jso, NULL);
        else if (s == NATS_OK) s = stanConnection_Subscribe(&subs[i], conns[i].sc, channel, on_msg, &set.subs[i], sopts);
    }
    if (s != NATS_OK) return fail(cfg, "subscribe", s);
    mark("start");
    int64_t start = now_ns();
    double cpu = cpu_seconds();
    s = publish_windowed(pub_conn, channel, cfg, payload);
    struct timespec deadline;
    deadline_in(&deadline, cfg->timeout_s);
    pthread_mutex_lock(&set.mu);
    while (set.done < cfg->subs) {
        if (pthread_cond_timedwait(&set.cond, &set.mu, &deadline) != 0) break;
    }
    pthread_mutex_unlock(&set.mu);
    mark("end");
    int64_t end = start;
    int received = 0, out_of_order = 0, redelivered = 0;
    for (int i = 0; i < cfg->subs; i++) {
        if (set.subs[i].done_ns > end) end = set.subs[i].done_ns;
        received += set.subs[i].received - 1;
        out_of_order += set.subs[i].out_of_order;
        redelivered += set.subs[i].redelivered;
    }
    double seconds = (end - start) / 1e9;
    print_common(cfg, seconds, cpu_seconds() - cpu);
    print_acks();
    /* Gather the slices (subscribers that fell short leave gaps) into one sorted run. */
    pthread_mutex_lock(&set.mu);
    int samples = 0;
    for (int i = 0; i < cfg->subs; i++) {
        memmove(set.e2e_ms + samples, set.subs[i].e2e_ms, set.subs[i].samples * sizeof(double));
        samples += set.subs[i].samples;
    }
    qsort(set.e2e_ms, samples, sizeof(double), compare_double);
    pthread_mutex_unlock(&set.mu);
    printf(",\"subscribers\":%d,\"received\":%d,\"outOfOrder\":%d,\"redelivered\":%d,\"deliveredPerSec\":%.1f,"
           "\"e2eP50Ms\":%.3f,\"e2eP99Ms\":%.3f,\"status\":\"%s\"}\n",
           cfg->subs, received, out_of_order, redelivered, seconds > 0 ? (double) cfg->count * cfg->subs / seconds : 0,
           percentile(set.e2e_ms, samples, 50), percentile(set.e2e_ms, samples, 99), natsStatus_GetText(s));
    int failed = s != NATS_OK || set.done < cfg->subs || out_of_order != 0 || pub.acked != cfg->count;
    for (int i = 0; i < cfg->subs; i++) {
        if (subs[i] != NULL) stanSubscription_Destroy(subs[i]);
        if (js_subs[i] != NULL) {
            natsSubscription_Unsubscribe(js_subs[i]); /* deletes the ephemeral consumer at once */
            natsSubscription_Destroy(js_subs[i]);
        }
        bench_close(&conns[i]);
    }
    stanSubOptions_Destroy(sopts);
    free(set.e2e_ms);
    return failed;
}

static int parse_args(int argc, char **argv, config_t *cfg) {
    static const struct option options[] = {
        { "url", required_argument, 0, 'u' },      { "cluster", required_argument, 0, 'c' },
        { "workload", required_argument, 0, 'w' }, { "count", required_argument, 0, 'n' },
        { "subs", required_argument, 0, 's' },     { "window", required_argument, 0, 'W' },
        { "size", required_argument, 0, 'b' },     { "timeout-s", required_argument, 0, 't' },
        { "id", required_argument, 0, 'i' },       { "jetstream", required_argument, 0, 'j' },
        { 0, 0, 0, 0 },
    };
    *cfg = (config_t) { "nats://127.0.0.1:4222", "test-cluster", "", "bench", 0, 0, 16384, 128, 120, NULL };
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'u': cfg->url = optarg; break;
        case 'c': cfg->cluster = optarg; break;
        case 'w': cfg->workload = optarg; break;
        case 'n': cfg->count = atoi(optarg); break;
        case 's': cfg->subs = atoi(optarg); break;
        case 'W': cfg->window = atoi(optarg); break;
        case 'b': cfg->size = atoi(optarg); break;
        case 't': cfg->timeout_s = atoi(optarg); break;
        case 'i': cfg->id = optarg; break;
        case 'j': cfg->jetstream = optarg; break;
        default: return 0;
        }
    }
    if (cfg->subs == 0) cfg->subs = strcmp(cfg->workload, "W4") == 0 ? 10 : 1;
    if (cfg->jetstream != NULL && strcmp(cfg->jetstream, "memory") != 0 && strcmp(cfg->jetstream, "file") != 0) return 0;
    return cfg->count > 0 && cfg->size >= 16 && cfg->window > 0 && cfg->subs > 0 && cfg->subs <= SUBS_MAX &&
           (!strcmp(cfg->workload, "W1") || !strcmp(cfg->workload, "W2") || !strcmp(cfg->workload, "W3") ||
            !strcmp(cfg->workload, "W4"));
}

int main(int argc, char **argv) {
    config_t cfg;
    if (!parse_args(argc, argv, &cfg)) {
        fprintf(stderr, "usage: %s --url U --workload W1|W2|W3|W4 --count N [--cluster ID] [--subs K] "
                        "[--window 16384] [--size 128] [--timeout-s 120] [--id PREFIX] [--jetstream memory|file]\n", argv[0]);
        return 2;
    }
    pub = (publisher_t) { .window = cfg.window, .count = cfg.count };
    run_nonce = (uint32_t) now_ns() ^ ((uint32_t) getpid() << 16);
    pthread_mutex_init(&pub.mu, NULL);
    pthread_cond_init(&pub.cond, NULL);
    pthread_mutex_init(&set.mu, NULL);
    pthread_cond_init(&set.cond, NULL);
    pub.sent_ns = calloc(cfg.count, sizeof(int64_t));
    pub.ack_ms = calloc(cfg.count, sizeof(double));
    pub.seen = calloc(cfg.count, 1);
    char *payload = calloc(1, cfg.size);
    /* The channel wn, or in JetStream mode the subject bench_wn of the stream BENCH_Wn. */
    char channel[16], id[128];
    snprintf(channel, sizeof channel, "%sw%c", cfg.jetstream != NULL ? "bench_" : "", cfg.workload[1]);
    snprintf(id, sizeof id, "%s-%s-pub", cfg.id, channel);

    conn_t conn = { 0 };
    natsStatus s = bench_connect(&conn, &cfg, id);
    if (s != NATS_OK) return fail(&cfg, "connect", s);
    if (cfg.jetstream != NULL && (s = add_stream(&conn, &cfg, channel)) != NATS_OK)
        return fail(&cfg, s == NATS_MISMATCH ? "add stream: it exists with the other storage" : "add stream", s);
    /* Warm-up: the channel exists and the server answers before anything is timed. */
    fill_payload(payload, cfg.size, now_ns(), UINT32_MAX);
    if ((s = publish_sync(&conn, channel, payload, cfg.size)) != NATS_OK) return fail(&cfg, "warm-up publish", s);

    int failed;
    if (!strcmp(cfg.workload, "W1")) failed = run_w1(&cfg, &conn, channel, payload);
    else if (!strcmp(cfg.workload, "W2")) failed = run_w2(&cfg, &conn, channel, payload);
    else failed = run_fan_out(&cfg, &conn, channel, payload);
    fflush(stdout);
    bench_close(&conn);
    nats_Close();
    free(pub.sent_ns);
    free(pub.ack_ms);
    free(pub.seen);
    free(payload);
    return failed;
}

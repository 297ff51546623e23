/* test-virt-threads.c - one libhostdev-virt connection shared by many threads, as libvirt
 * programs share theirs: lookups, listings, XML, references and failing calls at once, on a
 * plain-directory tree. Run plain, under ASan+UBSan (check-asan) and under TSan (check-tsan). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "adapters-tree.h"
#include "hdtest.h"

#define THREADS  12
#define ROUNDS   25
#define MAX_DEVS 64
/* Failing calls per round and thread: a lookup of a device that does not exist, an unknown
 * driver name, unsupported flags. */
#define ERRORS_PER_ROUND 3

static virConnectPtr conn;
/* What one thread alone sees: every node device's name and XML, and the PCI count. */
static char *names[MAX_DEVS], *xmls[MAX_DEVS];
static int ndevs, npci;
/* Devices every thread uses at once (a list's objects handed to workers). */
static virNodeDevicePtr *shared;
static atomic_int handled;

/* libvirt's process-wide handler: counts, instead of printing thousands of lines. */
static void count_error(void *data, virErrorPtr err)
{
    (void)data;
    if (err != NULL)
        atomic_fetch_add(&handled, 1);
}

static void setup(void)
{
    char uri[4096], path[4096];
    virNodeDevicePtr *devs;

    at_sample_setup();
    snprintf(path, sizeof(path), "%s/usr/share/hwdata/pci.ids", at_root);
    setenv("HOSTDEV_NAMES", path, 1); /* the names cache is shared too */
    virSetErrorFunc(NULL, count_error);
    snprintf(uri, sizeof(uri), "hostdev://%s", at_root);
    conn = virConnectOpen(uri);
    ck_assert_ptr_nonnull(conn);
    ndevs = virConnectListAllNodeDevices(conn, &devs, 0);
    ck_assert_int_gt(ndevs, 10);
    ck_assert_int_le(ndevs, MAX_DEVS);
    for (int i = 0; i < ndevs; i++) {
        names[i] = strdup(virNodeDeviceGetName(devs[i]));
        xmls[i] = virNodeDeviceGetXMLDesc(devs[i], 0);
        ck_assert_ptr_nonnull(names[i]);
        ck_assert_ptr_nonnull(xmls[i]);
    }
    shared = devs;
    npci = virNodeNumOfDevices(conn, "pci", 0);
    ck_assert_int_gt(npci, 0);
    atomic_store(&handled, 0);
}

static void teardown(void)
{
    for (int i = 0; i < ndevs; i++) {
        free(names[i]);
        free(xmls[i]);
    }
    at_sample_teardown();
}

struct worker {
    int id;
    char fail[512]; /* the first thing that went wrong; "" when nothing did */
};

#define FAIL(w, ...)                                                                               \
    do {                                                                                           \
        if ((w)->fail[0] == '\0')                                                                  \
            snprintf((w)->fail, sizeof((w)->fail), __VA_ARGS__);                                   \
        return;                                                                                    \
    } while (0)

/* The thread's own last error says @code and names @what. */
static void expect_error(struct worker *w, const char *call, int code, const char *what)
{
    virErrorPtr err = virGetLastError();

    if (err == NULL || err->code != code || err->message == NULL ||
        strstr(err->message, what) == NULL)
        FAIL(w, "thread %d: %s: want error %d naming '%s', got %d '%s'", w->id, call, code, what,
             err ? err->code : 0, err && err->message ? err->message : "(none)");
}

static void check_xml(struct worker *w, virNodeDevicePtr dev, int i)
{
    char *xml = virNodeDeviceGetXMLDesc(dev, 0);

    if (xml == NULL || strcmp(xml, xmls[i]) != 0) {
        free(xml);
        FAIL(w, "thread %d: XML of %s differs: %s", w->id, names[i], virGetLastErrorMessage());
    }
    free(xml);
}

static void lookups(struct worker *w, int round)
{
    int i = (w->id + round) % ndevs;
    char missing[64];
    virNodeDevicePtr dev = virNodeDeviceLookupByName(conn, names[i]);

    if (dev == NULL)
        FAIL(w, "thread %d: lookup %s: %s", w->id, names[i], virGetLastErrorMessage());
    if (strcmp(virNodeDeviceGetName(dev), names[i]) != 0)
        FAIL(w, "thread %d: lookup %s gave %s", w->id, names[i], virNodeDeviceGetName(dev));
    check_xml(w, dev, i);
    /* An unknown driver name fails before anything is read; nothing is written. */
    if (virNodeDeviceDetachFlags(dev, "bogus", 0) != -1)
        FAIL(w, "thread %d: detach with driver 'bogus' succeeded", w->id);
    expect_error(w, "detach", VIR_ERR_INVALID_ARG, "bogus");
    virNodeDeviceFree(dev);

    /* A device no thread has, named after this thread and round: a message that names
     * another thread's device is a shared error buffer. */
    snprintf(missing, sizeof(missing), "pci_0000_%02x_%02x_%d", 0xe0 + w->id, round % 32,
             round % 8);
    if (virNodeDeviceLookupByName(conn, missing) != NULL)
        FAIL(w, "thread %d: %s found", w->id, missing);
    expect_error(w, "lookup", VIR_ERR_NO_NODE_DEVICE, missing);
}

static void listings(struct worker *w, int round)
{
    char *list[MAX_DEVS];
    virNodeDevicePtr *devs;
    int n;

    if ((n = virNodeNumOfDevices(conn, NULL, 0)) != ndevs)
        FAIL(w, "thread %d: %d devices, want %d: %s", w->id, n, ndevs, virGetLastErrorMessage());
    if (virNodeNumOfDevices(conn, NULL, 1) != -1)
        FAIL(w, "thread %d: flags 1 accepted", w->id);
    expect_error(w, "virNodeNumOfDevices", VIR_ERR_INVALID_ARG, "flags");
    n = virNodeListDevices(conn, "pci", list, MAX_DEVS, 0);
    if (n != npci)
        FAIL(w, "thread %d: %d PCI devices, want %d", w->id, n, npci);
    for (int i = 0; i < n; i++)
        free(list[i]);
    n = virConnectListAllNodeDevices(conn, &devs, 0);
    if (n != ndevs)
        FAIL(w, "thread %d: listed %d devices, want %d", w->id, n, ndevs);
    for (int i = 0; i < n; i++) {
        if (i == round % n)
            check_xml(w, devs[i], i);
        virNodeDeviceFree(devs[i]);
    }
    free(devs);
}

/* The same objects in every thread: references taken and dropped, XML formatted at once. */
static void sharing(struct worker *w, int round)
{
    int i = (round * 7 + w->id) % ndevs;

    if (virNodeDeviceRef(shared[i]) != 0 || virConnectRef(conn) != 0)
        FAIL(w, "thread %d: ref: %s", w->id, virGetLastErrorMessage());
    check_xml(w, shared[i], i);
    if (strcmp(virNodeDeviceGetName(shared[i]), names[i]) != 0)
        FAIL(w, "thread %d: shared device %d renamed", w->id, i);
    virNodeDeviceFree(shared[i]);
    if (virConnectClose(conn) < 1)
        FAIL(w, "thread %d: connection closed under us", w->id);
}

static void *work(void *data)
{
    struct worker *w = data;

    for (int round = 0; round < ROUNDS && w->fail[0] == '\0'; round++) {
        lookups(w, round);
        listings(w, round);
        sharing(w, round);
    }
    return NULL;
}

HD_TEST_FILE(.setup = setup, .teardown = teardown);

HD_TEST(one_connection_many_threads)
{
    pthread_t tids[THREADS];
    static struct worker workers[THREADS];

    for (int i = 0; i < THREADS; i++) {
        workers[i].id = i;
        ck_assert_int_eq(pthread_create(&tids[i], NULL, work, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(workers[i].fail[0] == '\0', "%s", workers[i].fail);
    /* Every failing call reached the handler once. */
    ck_assert_int_eq(atomic_load(&handled), THREADS * ROUNDS * ERRORS_PER_ROUND);
    /* Every reference came back: the shared devices' and then the connection's last. */
    for (int i = 0; i < ndevs; i++)
        ck_assert_int_eq(virNodeDeviceFree(shared[i]), 0);
    free(shared);
    ck_assert_int_eq(virConnectClose(conn), 0);
}
END_TEST

/* The last error is each thread's own: a failure in one thread is not seen in another. */
static void *fail_once(void *data)
{
    (void)data;
    return virNodeDeviceLookupByName(conn, "pci_0000_ee_00_0") == NULL ? virGetLastError() : NULL;
}

HD_TEST(last_error_is_per_thread)
{
    pthread_t tid;
    void *err = NULL;

    virResetLastError();
    ck_assert_int_eq(pthread_create(&tid, NULL, fail_once, NULL), 0);
    ck_assert_int_eq(pthread_join(tid, &err), 0);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(virGetLastError());
    for (int i = 0; i < ndevs; i++)
        virNodeDeviceFree(shared[i]);
    free(shared);
    ck_assert_int_eq(virConnectClose(conn), 0);
}
END_TEST

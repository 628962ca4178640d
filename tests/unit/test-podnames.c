/* The kubelet's log layout: its names parsed (kubelog), read under a root into one table
 * (podnames), and identities named from it, on the fixture trees of tests/fixtures/gen-cgroups.py
 * (cg-k8s-names: every edge case of the layout) and on a tree made here that changes. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "model/workload/identity.h"
#include "model/sysroot.h"
#include "model/workload/kubelog.h"
#include "model/workload/podnames.h"

#define UID_BURST "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define UID_GUAR "11111111-2222-3333-4444-555555555555"
#define UID_OLD "77777777-8888-4999-aaaa-bbbbbbbbbbbb"
#define UID_STATIC "5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b"
#define CID_A "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987"
#define CID_OLD "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed"
#define CID_E "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int pod_dir(const char *s, struct kubelog_pod *p)
{
    return kubelog_pod_dir_parse(s, strlen(s), p);
}

static void pod_directories(void **state)
{
    (void)state;
    struct kubelog_pod p;
    assert_int_equal(pod_dir("shop_api-7b8c6d9f4-x2k9p_" UID_BURST, &p), 0);
    assert_string_equal(p.namespace, "shop");
    assert_string_equal(p.name, "api-7b8c6d9f4-x2k9p");
    assert_string_equal(p.uid, UID_BURST);
    /* a static pod's UID; a pod name with dots (a DNS subdomain) */
    assert_int_equal(pod_dir("kube-system_etcd-node-1.example.com_" UID_STATIC, &p), 0);
    assert_string_equal(p.name, "etcd-node-1.example.com");
    assert_string_equal(p.uid, UID_STATIC);
    /* 63-byte namespace, 253-byte pod name: the limits themselves */
    char ns63[64], pod253[254], big[400];
    memset(ns63, 'n', 63), ns63[63] = '\0';
    memset(pod253, 'p', 253), pod253[253] = '\0';
    for (size_t i = 60; i < 253; i += 61)
        pod253[i] = '.';
    snprintf(big, sizeof(big), "%s_%s_%s", ns63, pod253, UID_BURST);
    assert_int_equal(pod_dir(big, &p), 0);
    assert_int_equal(strlen(p.name), 253);
    snprintf(big, sizeof(big), "%sn_x_%s", ns63, UID_BURST); /* 64 */
    assert_int_equal(pod_dir(big, &p), -EINVAL);
    snprintf(big, sizeof(big), "ns_%sp_%s", pod253, UID_BURST); /* 254 */
    assert_int_equal(pod_dir(big, &p), -EINVAL);

    const char *bad[] = {
        UID_BURST,                                   /* a kubelet before 1.14: the UID alone */
        "shop_api_x_" UID_BURST,                     /* three '_' */
        "Shop_api_" UID_BURST,                       /* upper case */
        "shop_API_" UID_BURST,                       /*   in the pod name too */
        "-shop_api_" UID_BURST,                      /* a label starts alphanumeric */
        "shop_api-_" UID_BURST,                      /*   and ends so */
        "shop_api..x_" UID_BURST,                    /* an empty part of a subdomain */
        "_api_" UID_BURST,                           /* empty */
        "shop__" UID_BURST,                          /* empty */
        "shop_api_",                                 /* no UID */
        "shop_api_0A1B2C3D-4E5F-6789-ABCD-EF0123456789", /* upper-case UID */
        "shop_api_0a1b2c3d-4e5f-6789-abcd-ef012345678",  /* 35 */
        "shop_api_0a1b2c3d_4e5f_6789_abcd_ef0123456789", /* systemd's escaping is not here */
        "shop_api_5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4",      /* 31 hex */
        "shop_api\n_" UID_BURST,
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pod_dir(bad[i], &p) != -EINVAL)
            print_message("# accepted: %s\n", bad[i]);
        assert_int_equal(pod_dir(bad[i], &p), -EINVAL);
    }
}

static int lnk(const char *name, const char *target, struct kubelog_container *c)
{
    return kubelog_link_parse(name, strlen(name), target, target ? strlen(target) : 0, c);
}

static void container_links(void **state)
{
    (void)state;
    struct kubelog_container c;
    assert_int_equal(lnk("api-7b8c6d9f4-x2k9p_shop_app-" CID_A ".log",
                          "/var/log/pods/shop_api-7b8c6d9f4-x2k9p_" UID_BURST "/app/2.log", &c),
                     0);
    assert_string_equal(c.pod.namespace, "shop");
    assert_string_equal(c.pod.name, "api-7b8c6d9f4-x2k9p");
    assert_string_equal(c.pod.uid, UID_BURST);
    assert_string_equal(c.name, "app");
    assert_string_equal(c.id, CID_A);
    assert_int_equal(c.restart, 2);
    /* a container name with dashes: the ID follows the name the target gives */
    assert_int_equal(lnk("p_ns_my-side-car-" CID_A ".log", "ns_p_" UID_STATIC "/my-side-car/0.log", &c), 0);
    assert_string_equal(c.name, "my-side-car");
    assert_string_equal(c.id, CID_A);
    /* without a target (not a link, or unreadable): the name alone, split at its last '-' */
    assert_int_equal(lnk("p_ns_my-side-car-" CID_A ".log", NULL, &c), 0);
    assert_string_equal(c.name, "my-side-car");
    assert_string_equal(c.pod.uid, "");
    assert_int_equal(c.restart, -1);
    /* a target that is not the kubelet's layout counts as none */
    assert_int_equal(lnk("p_ns_c-" CID_A ".log", "/var/lib/docker/containers/x-json.log", &c), 0);
    assert_string_equal(c.pod.name, "p");
    assert_string_equal(c.pod.uid, "");

    /* logSymlink cuts the name to 251 bytes + ".log": the ID is then a prefix */
    char pod[201], name[512], target[512];
    memset(pod, 'a', 200), pod[200] = '\0';
    snprintf(name, sizeof(name), "%s_web_httpd-%s", pod, CID_E);
    name[251] = '\0';
    strcat(name, ".log");
    snprintf(target, sizeof(target), "/var/log/pods/web_%s_%s/httpd/0.log", pod, UID_BURST);
    assert_int_equal(lnk(name, target, &c), 0);
    assert_int_equal(strlen(c.id), 251 - (200 + 1 + 3 + 1 + 5 + 1));
    assert_memory_equal(c.id, CID_E, strlen(c.id));
    /* ... but the name alone cannot say where a cut name's container ends */
    assert_int_equal(lnk(name, NULL, &c), -EINVAL);
    /* cut before 12 digits of the ID were left: nothing to match a cgroup with */
    memset(pod, 'a', 200), pod[200] = '\0';
    char ns[64];
    memset(ns, 'n', 38), ns[38] = '\0';
    snprintf(name, sizeof(name), "%s_%s_httpd-%s", pod, ns, CID_E);
    name[251] = '\0';
    strcat(name, ".log");
    snprintf(target, sizeof(target), "/var/log/pods/%s_%s_%s/httpd/0.log", ns, pod, UID_BURST);
    assert_int_equal(lnk(name, target, &c), -EINVAL);

    struct {
        const char *name, *target;
    } bad[] = {
        /* the name and its target disagree */
        {"api_shop_app-" CID_A ".log", "/var/log/pods/other_api_" UID_BURST "/app/0.log"},
        {"api_shop_app-" CID_A ".log", "/var/log/pods/shop_api_" UID_BURST "/web/0.log"},
        {"api_shop_app-" CID_A ".log", "/var/log/pods/shop_other_" UID_BURST "/app/0.log"},
        /* not a container's log link */
        {"api_shop_app-" CID_A, NULL},
        {"api_shop_app-" CID_A ".log.1", NULL},
        {"README.log", "/usr/share/doc/README"},
        {"api_shop_app-0123456789a.log", NULL},                 /* 11 digits */
        {"api_shop_app-0123456789ABCDEF.log", NULL},            /* upper case */
        {"api_shop_app-" CID_A "0.log", NULL},                  /* 65 digits */
        {"api_shop_App-" CID_A ".log", NULL},
        {"api_shop_app_x-" CID_A ".log", NULL},
        {"api_shop_" CID_A ".log", NULL},                       /* no container name */
        {".log", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lnk(bad[i].name, bad[i].target, &c) != -EINVAL)
            print_message("# accepted: %s -> %s\n", bad[i].name, bad[i].target ? bad[i].target : "");
        assert_int_equal(lnk(bad[i].name, bad[i].target, &c), -EINVAL);
    }
    /* a target whose parts are not the kubelet's: the name alone decides */
    const char *targets[] = {"/x/0.log", "0.log", "/var/log/pods/shop_api_" UID_BURST "/app/x.log",
                             "/var/log/pods/shop_api_" UID_BURST "/app/1234567890.log",
                             "/var/log/pods/shop_api_" UID_BURST "//0.log",
                             "/var/log/pods/" UID_BURST "/app/0.log"};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        assert_int_equal(lnk("api_shop_app-" CID_A ".log", targets[i], &c), 0);
        assert_string_equal(c.pod.uid, "");
        assert_int_equal(c.restart, -1);
    }
}

static void named(const struct podnames *pn, const char *path, struct identity *id)
{
    identity_from_cgroup(path, id);
    podnames_name(pn, id);
}

static void describe_is(const struct identity *id, const char *want)
{
    struct buf b = BUF_INIT(4096);
    assert_int_equal(identity_describe(id, &b), 0);
    assert_string_equal(buf_cstr(&b), want);
    buf_release(&b);
}

#define KPOD1 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice"
#define KPOD3 "/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice"
#define KPOD4 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podd0c4e700_aaaa_4bbb_8ccc_123456789abc.slice"

static void table_on_fixture(void **state)
{
    (void)state;
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, FIXTURE("cg-k8s-names"), NULL), 0);
    struct podnames pn;
    assert_int_equal(podnames_read(&sr, &pn), 0);
    assert_true(podnames_present(&pn));
    assert_int_equal(pn.pods_err, 0);
    assert_int_equal(pn.containers_err, 0);
    /* five pod directories (the bare-UID one is a kubelet before 1.14's), and db/postgres-0
     * whose directory is elsewhere: its link says */
    assert_int_equal(pn.npods, 6);
    /* six links of the kubelet's: README.log and Bad_Name are not */
    assert_int_equal(pn.ncontainers, 6);

    struct podnames_pod p;
    assert_true(podnames_pod(&pn, UID_GUAR, &p));
    assert_string_equal(p.namespace, "db");
    assert_string_equal(p.name, "postgres-0");
    assert_true(podnames_pod(&pn, UID_OLD, &p)); /* the StatefulSet pod's previous UID */
    assert_string_equal(p.name, "postgres-0");
    assert_true(podnames_pod(&pn, UID_STATIC, &p));
    assert_string_equal(p.namespace, "kube-system");
    assert_false(podnames_pod(&pn, "c0ffee00-1111-4222-8333-444455556666", &p));

    struct podnames_container c;
    assert_true(podnames_container(&pn, CID_A, &c));
    assert_string_equal(c.name, "app");
    assert_int_equal(c.restart, 2);
    assert_true(podnames_container(&pn, CID_OLD, &c)); /* the container before its restart */
    assert_int_equal(c.restart, 1);
    /* the link's name was cut: 39 digits of the ID match the full one and a 12-digit one */
    assert_true(podnames_container(&pn, CID_E, &c));
    assert_string_equal(c.name, "httpd");
    assert_true(podnames_container(&pn, "0123456789ab", &c));
    assert_false(podnames_container(&pn, "0123456789a", &c));
    assert_false(podnames_container(&pn, "0123456789abcdef0123456789abcdef0123457", &c));

    struct identity id;
    named(&pn, KPOD1 "/cri-containerd-" CID_A ".scope", &id);
    describe_is(&id, "pod shop/api-7b8c6d9f4-x2k9p (burstable) container app (containerd 9192cb33411f)");
    char s[64];
    assert_true(identity_short_name(&id, 40, s, sizeof(s)));
    assert_string_equal(s, "shop/api-7b8c6d9f4-x2k9p/app");
    assert_true(identity_short_name(&id, 20, s, sizeof(s)));
    assert_string_equal(s, "…7b8c6d9f4-x2k9p/app");
    /* the pod's own cgroup, and its sandbox (no link: the pod's name only) */
    named(&pn, KPOD1, &id);
    describe_is(&id, "pod shop/api-7b8c6d9f4-x2k9p (burstable)");
    named(&pn, KPOD1 "/cri-containerd-e3d2c1b0a9f8e7d6c5b434186d9bd077a7b5f0b8c1c5e3d2a5f0e9d8c7b6a5f4.scope", &id);
    assert_string_equal(id.container_name, "");
    assert_true(identity_short_name(&id, 40, s, sizeof(s)));
    assert_string_equal(s, "shop/api-7b8c6d9f4-x2k9p");
    /* CRI-O's conmon: its container's name, but it is not the container */
    named(&pn, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/crio-conmon-34186d9bd077a7b5f0b8c1c5e3d2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4.scope", &id);
    describe_is(&id, "pod batch/report-28391-abcde (besteffort) conmon of container worker (crio 34186d9bd077)");
    assert_true(identity_short_name(&id, 40, s, sizeof(s)));
    assert_string_equal(s, "batch/report-28391-abcde");
    /* the pod whose directory is elsewhere: named by its container's link */
    named(&pn, KPOD3, &id);
    describe_is(&id, "pod db/postgres-0 (guaranteed)");
    /* the cut link */
    named(&pn, KPOD4 "/docker-" CID_E ".scope", &id);
    assert_string_equal(id.container_name, "httpd");
    assert_string_equal(id.pod_namespace, "web");
    /* a static pod */
    named(&pn, "/kubepods/burstable/pod" UID_STATIC "/7c6b5a4938271605f4e3d2c1b0a998877665544332211000ffeeddccbbaa9988", &id);
    assert_string_equal(id.pod_name, "etcd-node-1");
    assert_string_equal(id.container_name, "etcd");
    /* a container ID of another pod's link is not believed about this pod */
    named(&pn, KPOD3 "/cri-containerd-" CID_A ".scope", &id);
    assert_string_equal(id.pod_name, "postgres-0");
    assert_string_equal(id.container_name, "");
    /* an unknown pod: nothing named, described as before */
    named(&pn, "/kubepods/pod99999999-2222-3333-4444-555555555555", &id);
    assert_false(identity_short_name(&id, 40, s, sizeof(s)));
    assert_string_equal(s, "");
    describe_is(&id, "pod 99999999-2222-3333-4444-555555555555 (guaranteed)");
    /* not Kubernetes: nothing to name */
    named(&pn, "/system.slice/ssh.service", &id);
    assert_false(identity_short_name(&id, 40, s, sizeof(s)));
    podnames_release(&pn);
    sysroot_close(&sr);

    /* the same tree without the layout: an empty table, every identity as the path says */
    assert_int_equal(sysroot_open(&sr, FIXTURE("cg-k8s-systemd"), NULL), 0);
    assert_int_equal(podnames_read(&sr, &pn), 0);
    assert_false(podnames_present(&pn));
    assert_int_equal(pn.pods_err, -ENOENT);
    assert_int_equal(pn.npods + pn.ncontainers, 0);
    named(&pn, KPOD1 "/cri-containerd-" CID_A ".scope", &id);
    describe_is(&id, "pod " UID_BURST " (burstable) container 9192cb33411f (containerd)");
    named(NULL, KPOD1, &id);
    describe_is(&id, "pod " UID_BURST " (burstable)");
    podnames_release(&pn);
    sysroot_close(&sr);
}

static void mkdirs(const char *root, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static void age(const char *root, const char *rel, long seconds)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec ts[2] = {{now.tv_sec - seconds, 0}, {now.tv_sec - seconds, 0}};
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* The agent keeps one table and refreshes it: read again only when a directory changed (or was
 * read within the clock tick of its last change), and then it sees the change. */
static void refresh(void **state)
{
    (void)state;
    char root[] = "/tmp/oomwarden-podnames-XXXXXX";
    assert_non_null(mkdtemp(root));
    mkdirs(root, "proc");
    mkdirs(root, "var/log/pods/shop_api_" UID_BURST "/app");
    mkdirs(root, "var/log/containers");
    struct sysroot sr;
    assert_int_equal(sysroot_open(&sr, root, NULL), 0);
    struct podnames pn;
    assert_int_equal(podnames_read(&sr, &pn), 0);
    assert_int_equal(pn.npods, 1);
    /* just made: not settled, so read again */
    assert_int_equal(podnames_refresh(&sr, &pn), 1);
    age(root, "var/log/pods", 60);
    age(root, "var/log/containers", 60);
    assert_int_equal(podnames_refresh(&sr, &pn), 1);
    assert_int_equal(podnames_refresh(&sr, &pn), 0);
    assert_int_equal(podnames_refresh(&sr, &pn), 0);
    /* a new pod, and its container's link */
    mkdirs(root, "var/log/pods/db_pg-0_" UID_GUAR "/postgres");
    char lp[4096];
    snprintf(lp, sizeof(lp), "%s/var/log/containers/pg-0_db_postgres-" CID_A ".log", root);
    assert_int_equal(symlink("/var/log/pods/db_pg-0_" UID_GUAR "/postgres/0.log", lp), 0);
    assert_int_equal(podnames_refresh(&sr, &pn), 1);
    assert_int_equal(pn.npods, 2);
    struct podnames_container c;
    assert_true(podnames_container(&pn, CID_A, &c));
    assert_string_equal(c.pod, "pg-0");
    /* the pod deleted: the kubelet removes both */
    assert_int_equal(unlink(lp), 0);
    age(root, "var/log/pods", 60);
    age(root, "var/log/containers", 60);
    assert_int_equal(podnames_refresh(&sr, &pn), 1);
    assert_false(podnames_container(&pn, CID_A, &c));
    /* the layout goes away altogether (the mount is gone): an empty table, then no more reads */
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/var'", root);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(podnames_refresh(&sr, &pn), 1);
    assert_false(podnames_present(&pn));
    assert_int_equal(pn.npods, 0);
    assert_int_equal(podnames_refresh(&sr, &pn), 0);
    podnames_release(&pn);
    sysroot_close(&sr);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pod_directories),
        cmocka_unit_test(container_links),
        cmocka_unit_test(table_on_fixture),
        cmocka_unit_test(refresh),
    };
    return cmocka_run_group_tests_name("podnames", tests, NULL, NULL);
}

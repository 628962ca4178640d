/* Workload identity from cgroup paths: every layout of kernel-oom-facts §7, and the corpus's. */
#include "testlib.h"

#include "base/buf.h"
#include "base/json.h"
#include "model/workload/identity.h"

#define CID "9192cb33411ff69d015a3577db136757f5b145064a1703efea3d0e12e8a64987"

struct expect {
    const char *path;
    enum workload_kind kind;
    const char *slice, *unit, *pod, *qos, *cid, *runtime;
    bool conmon;
    const char *describe;
};

static void check(const struct expect *e)
{
    struct identity id;
    identity_from_cgroup(e->path, &id);
    if (id.kind != e->kind || strcmp(id.pod_uid, e->pod ? e->pod : "") != 0)
        print_message("# path %s\n", e->path);
    assert_int_equal(id.kind, e->kind);
    assert_string_equal(id.systemd_slice, e->slice ? e->slice : "");
    assert_string_equal(id.systemd_unit, e->unit ? e->unit : "");
    assert_string_equal(id.pod_uid, e->pod ? e->pod : "");
    if (e->qos)
        assert_string_equal(qos_class_name(id.qos), e->qos);
    else
        assert_null(qos_class_name(id.qos));
    assert_string_equal(id.container_id, e->cid ? e->cid : "");
    assert_string_equal(id.container_runtime, e->runtime ? e->runtime : "");
    assert_int_equal(id.conmon, e->conmon);
    struct buf b = BUF_INIT(1024);
    assert_int_equal(identity_describe(&id, &b), 0);
    assert_string_equal(buf_cstr(&b), e->describe);
    buf_release(&b);
}

static void kubernetes_systemd_driver(void **state)
{
    (void)state;
    const struct expect cases[] = {
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-" CID ".scope",
         WORKLOAD_KUBERNETES, "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
         "cri-containerd-" CID ".scope", "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "burstable", CID,
         "containerd", false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (burstable) container 9192cb33411f (containerd)"},
        /* Guaranteed: no QoS level in the path */
        {"/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/crio-" CID ".scope",
         WORKLOAD_KUBERNETES, "kubepods-pod11111111_2222_3333_4444_555555555555.slice",
         "crio-" CID ".scope", "11111111-2222-3333-4444-555555555555", "guaranteed", CID, "crio",
         false,
         "pod 11111111-2222-3333-4444-555555555555 (guaranteed) container 9192cb33411f (crio)"},
        {"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice/crio-conmon-" CID ".scope",
         WORKLOAD_KUBERNETES, "kubepods-besteffort-poda5d8fdd1_1369_469e_8a7d_2c1047529435.slice",
         "crio-conmon-" CID ".scope", "a5d8fdd1-1369-469e-8a7d-2c1047529435", "besteffort", CID,
         "crio", true,
         "pod a5d8fdd1-1369-469e-8a7d-2c1047529435 (besteffort) conmon of container 9192cb33411f (crio)"},
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/docker-" CID ".scope",
         WORKLOAD_KUBERNETES, "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
         "docker-" CID ".scope", "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "burstable", CID,
         "docker", false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (burstable) container 9192cb33411f (docker)"},
        /* the pod cgroup itself, and the AKS report's oom_memcg=/kubepods.slice */
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
         WORKLOAD_KUBERNETES, "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
         NULL, "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "burstable", NULL, NULL, false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (burstable)"},
        {"/kubepods.slice", WORKLOAD_KUBERNETES, "kubepods.slice", NULL, NULL, NULL, NULL, NULL,
         false, "kubepods"},
        {"/kubepods", WORKLOAD_KUBERNETES, NULL, NULL, NULL, NULL, NULL, NULL, false, "kubepods"},
        {"/kubepods.slice/kubepods-besteffort.slice", WORKLOAD_KUBERNETES,
         "kubepods-besteffort.slice", NULL, NULL, "besteffort", NULL, NULL, false,
         "kubepods (besteffort)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void kubernetes_cgroupfs_and_raw(void **state)
{
    (void)state;
    const struct expect cases[] = {
        {"/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/" CID, WORKLOAD_KUBERNETES,
         NULL, NULL, "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "burstable", CID, NULL, false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (burstable) container 9192cb33411f"},
        {"/kubepods/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/" CID, WORKLOAD_KUBERNETES, NULL, NULL,
         "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "guaranteed", CID, NULL, false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (guaranteed) container 9192cb33411f"},
        {"/kubepods/besteffort/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/crio-" CID,
         WORKLOAD_KUBERNETES, NULL, NULL, "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "besteffort",
         CID, "crio", false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (besteffort) container 9192cb33411f (crio)"},
        {"/system.slice/containerd.service/kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice:cri-containerd:" CID,
         WORKLOAD_KUBERNETES, "kubepods-burstable-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice",
         NULL, "0a1b2c3d-4e5f-6789-abcd-ef0123456789", "burstable", CID, "containerd", false,
         "pod 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (burstable) container 9192cb33411f (containerd)"},
        /* a static pod: its UID is the md5 of its manifest, 32 hex digits, in both drivers */
        {"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b.slice/cri-containerd-" CID ".scope",
         WORKLOAD_KUBERNETES, "kubepods-burstable-pod5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b.slice",
         "cri-containerd-" CID ".scope", "5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b", "burstable", CID,
         "containerd", false,
         "pod 5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b (burstable) container 9192cb33411f (containerd)"},
        {"/kubepods/burstable/pod5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b/" CID, WORKLOAD_KUBERNETES, NULL,
         NULL, "5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b", "burstable", CID, NULL, false,
         "pod 5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4b (burstable) container 9192cb33411f"},
        /* neither a UUID nor 32 hex digits: not a pod UID */
        {"/kubepods/burstable/pod5f3b9c0e2a1d4e6f8a7b9c0d1e2f3a4/" CID, WORKLOAD_KUBERNETES, NULL,
         NULL, NULL, "burstable", CID, NULL, false, "kubepods (burstable) container 9192cb33411f"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void docker_and_systemd(void **state)
{
    (void)state;
    const struct expect cases[] = {
        {"/docker/34186d9bd07706222bd427bb647ceed81e8e108eb653ff73c7137099fca1cab6",
         WORKLOAD_DOCKER, NULL, NULL, NULL, NULL,
         "34186d9bd07706222bd427bb647ceed81e8e108eb653ff73c7137099fca1cab6", "docker", false,
         "docker container 34186d9bd077"},
        {"/system.slice/docker-b1d583ef4ec7a04cda0c0e9a6804d0934bf00d88b84141570cf8251e808f1905.scope",
         WORKLOAD_DOCKER, "system.slice",
         "docker-b1d583ef4ec7a04cda0c0e9a6804d0934bf00d88b84141570cf8251e808f1905.scope", NULL,
         NULL, "b1d583ef4ec7a04cda0c0e9a6804d0934bf00d88b84141570cf8251e808f1905", "docker", false,
         "docker container b1d583ef4ec7"},
        {"/system.slice/ssh.service", WORKLOAD_SYSTEMD, "system.slice", "ssh.service", NULL, NULL,
         NULL, NULL, false, "unit ssh.service (system.slice)"},
        {"/user.slice/user-1000.slice/session-3.scope", WORKLOAD_SYSTEMD, "user-1000.slice",
         "session-3.scope", NULL, NULL, NULL, NULL, false, "unit session-3.scope (user-1000.slice)"},
        {"/system.slice", WORKLOAD_SYSTEMD, "system.slice", NULL, NULL, NULL, NULL, NULL, false,
         "slice system.slice"},
        {"/", WORKLOAD_NONE, NULL, NULL, NULL, NULL, NULL, NULL, false, ""},
        {"/mem2", WORKLOAD_NONE, NULL, NULL, NULL, NULL, NULL, NULL, false, ""},
        {"", WORKLOAD_NONE, NULL, NULL, NULL, NULL, NULL, NULL, false, ""},
        /* "pod" outside kubepods means nothing */
        {"/pods/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789", WORKLOAD_NONE, NULL, NULL, NULL, NULL,
         NULL, NULL, false, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check(&cases[i]);
}

static void json_shape(void **state)
{
    (void)state;
    struct identity id;
    identity_from_cgroup("/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/crio-" CID,
                         &id);
    struct buf b = BUF_INIT(4096);
    struct json j;
    json_init(&j, &b, false);
    identity_to_json(&id, &j);
    assert_int_equal(json_error(&j), 0);
    assert_string_equal(buf_cstr(&b),
                        "{\"kind\":\"kubernetes\",\"systemd_slice\":null,\"systemd_unit\":null,"
                        "\"namespace\":null,\"pod\":null,"
                        "\"pod_uid\":\"0a1b2c3d-4e5f-6789-abcd-ef0123456789\",\"qos_class\":"
                        "\"burstable\",\"container\":null,\"container_id\":\"" CID "\","
                        "\"container_runtime\":\"crio\",\"conmon\":false}");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kubernetes_systemd_driver),
        cmocka_unit_test(kubernetes_cgroupfs_and_raw),
        cmocka_unit_test(docker_and_systemd),
        cmocka_unit_test(json_shape),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}

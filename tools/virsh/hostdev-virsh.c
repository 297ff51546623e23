/* hostdev-virsh.c - virsh's node-device verbs, arguments, output and exit codes, on hostdev.
 * The reference is virsh 9.0 (Debian 12): messages and layouts as it prints them. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#ifndef HOSTDEV_NO_XML
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "shared.h"
#define HD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* A command's options, as virsh declares them: booleans, strings, and the one positional
 * DATA option that may also be given as --NAME. */
enum opt_type { OPT_BOOL, OPT_STRING, OPT_DATA };

struct opt_def {
    const char *name;
    enum opt_type type;
    bool required;
    const char *help; /* as `virsh help CMD` words it */
};

#define MAX_OPTS 4

struct cmd {
    const struct cmd_def *def;
    const char *value[MAX_OPTS]; /* NULL: not given; "" for a given boolean */
    bool help;                   /* --help: print the command's help instead */
};

struct ctl {
    virConnectPtr conn;
    const char *uri;
    bool quiet;
    bool readonly;
};

struct cmd_def {
    const char *name;
    const char *alias_of;
    bool (*run)(struct ctl *ctl, const struct cmd *cmd);
    struct opt_def opts[MAX_OPTS];
    const char *help;
};

/* The last libvirt error, kept by our error handler as virsh keeps it: later calls (the
 * cleanup's virNodeDeviceFree) reset the thread's last error before virsh reports it. */
static virErrorPtr saved_error;

static void keep_error(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
    virFreeError(saved_error);
    saved_error = virSaveLastError();
}

static void vsh_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void vsh_error(const char *fmt, ...)
{
    va_list ap;

    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* What virsh does after a failed command: show libvirt's own error, then forget it. */
static void report_last_error(void)
{
    virErrorPtr err = saved_error;

    saved_error = NULL;
    if (err != NULL && err->code != VIR_ERR_OK)
        vsh_error("%s", err->message ? err->message : "unknown error");
    virFreeError(err);
    virResetLastError();
}

static const char *opt(const struct cmd *cmd, const char *name)
{
    for (int i = 0; i < MAX_OPTS && cmd->def->opts[i].name; i++) {
        if (strcmp(cmd->def->opts[i].name, name) == 0)
            return cmd->value[i];
    }
    return NULL;
}

static bool connect(struct ctl *ctl)
{
    if (ctl->conn != NULL)
        return true;
    ctl->conn = ctl->readonly ? virConnectOpenReadOnly(ctl->uri) : virConnectOpen(ctl->uri);
    if (ctl->conn == NULL) {
        vsh_error("failed to connect to the hypervisor");
        return false;
    }
    return true;
}

/* ---- nodedev-list ------------------------------------------------------------------------ */

struct tree {
    virNodeDevicePtr *devs;
    int n;
};

static const char *tree_parent(const struct tree *t, int i)
{
    const char *name = virNodeDeviceGetName(t->devs[i]);
    return strcmp(name, "computer") == 0 ? NULL : virNodeDeviceGetParent(t->devs[i]);
}

/* virsh's drawing: "+- name" under its parent, "|" continuing while siblings follow, an
 * empty "|" line before a device's children and a blank line after the last leaf. */
static void tree_print(const struct tree *t, int dev, int lastdev, bool root, char *indent,
                       size_t len)
{
    const char *name = virNodeDeviceGetName(t->devs[dev]);
    int nextlast = -1;

    printf("%.*s%s%s\n", (int)len, indent, root ? "" : "+- ", name);
    if (!root) {
        indent[len++] = dev == lastdev ? ' ' : '|';
        indent[len++] = ' ';
    }
    for (int i = 0; i < t->n; i++) {
        const char *p = tree_parent(t, i);
        if (p != NULL && strcmp(p, name) == 0)
            nextlast = i;
    }
    if (nextlast != -1)
        printf("%.*s  |\n", (int)len, indent);
    indent[len] = indent[len + 1] = ' ';
    for (int i = 0; i < t->n; i++) {
        const char *p = tree_parent(t, i);
        if (p != NULL && strcmp(p, name) == 0)
            tree_print(t, i, nextlast, false, indent, len + 2);
    }
    if (nextlast == -1 && dev == lastdev)
        printf("%.*s\n", (int)len, indent);
}

static bool cmd_list(struct ctl *ctl, const struct cmd *cmd)
{
    const char *caps = opt(cmd, "cap");
    bool tree = opt(cmd, "tree") != NULL, inactive = opt(cmd, "inactive") != NULL;
    bool all = opt(cmd, "all") != NULL;
    unsigned int flags = 0;
    virNodeDevicePtr *devs;
    int n;

    if (all && inactive) {
        vsh_error("Option --all is incompatible with --inactive");
        return false;
    }
    if (tree && (caps != NULL || inactive)) {
        vsh_error("Option --tree is incompatible with --cap and --inactive");
        return false;
    }
    if (caps != NULL) {
        char copy[512], *save = NULL;
        snprintf(copy, sizeof(copy), "%s", caps);
        for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
            static const char *const names[] = {
                "system",      "pci",        "usb_device", "usb",     "net",    "scsi_host",
                "scsi_target", "scsi",       "storage",    "fc_host", "vports", "scsi_generic",
                "drm",         "mdev_types", "mdev",       "ccw",     "css",    "vdpa",
                "ap_card",     "ap_queue",   "ap_matrix",  "vpd",
            };
            size_t k;
            for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
                if (strcmp(c, names[k]) == 0)
                    break;
            }
            if (k == sizeof(names) / sizeof(names[0])) {
                vsh_error("Invalid capability type");
                return false;
            }
            flags |= 1u << k;
        }
    }
    if (inactive || all)
        flags |= VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE;
    if (!inactive)
        flags |= VIR_CONNECT_LIST_NODE_DEVICES_ACTIVE;
    if (!connect(ctl))
        return false;
    n = virConnectListAllNodeDevices(ctl->conn, &devs, flags);
    if (n < 0) {
        vsh_error("Failed to list node devices");
        return false;
    }
    if (tree) {
        struct tree t = {devs, n};
        char *indent = calloc((size_t)n * 2 + 4, 1);
        if (indent == NULL)
            return false;
        for (int i = 0; i < n; i++) {
            if (tree_parent(&t, i) == NULL)
                tree_print(&t, i, i, true, indent, 0);
        }
        free(indent);
    } else {
        for (int i = 0; i < n; i++)
            printf("%s\n", virNodeDeviceGetName(devs[i]));
    }
    for (int i = 0; i < n; i++)
        virNodeDeviceFree(devs[i]);
    free(devs);
    return true;
}

/* ---- single-device verbs ------------------------------------------------------------------ */

static virNodeDevicePtr lookup(struct ctl *ctl, const struct cmd *cmd)
{
    const char *name = opt(cmd, "device");
    virNodeDevicePtr dev;

    if (!connect(ctl))
        return NULL;
    dev = virNodeDeviceLookupByName(ctl->conn, name);
    if (dev == NULL)
        vsh_error("Could not find matching device '%s'", name);
    return dev;
}

#ifndef HOSTDEV_NO_XML
/* --xpath: libxml2's XPath, opened when asked for (shared/shared.h says why). */
struct xpath_api {
    __typeof__(xmlReadMemory) *read_memory;
    __typeof__(xmlFreeDoc) *free_doc;
    __typeof__(xmlXPathNewContext) *new_context;
    __typeof__(xmlXPathFreeContext) *free_context;
    __typeof__(xmlXPathEvalExpression) *eval;
    __typeof__(xmlXPathFreeObject) *free_object;
    __typeof__(xmlBufferCreate) *buffer_create;
    __typeof__(xmlBufferFree) *buffer_free;
    __typeof__(xmlNodeDump) *node_dump;
    __typeof__(xmlNodeGetContent) *content;
    __typeof__(xmlSetGenericErrorFunc) *set_error_func;
    xmlFreeFunc *free_var;
};

static const struct hd_dl_sym xpath_syms[] = {
    HD_DL_SYM(struct xpath_api, read_memory, xmlReadMemory),
    HD_DL_SYM(struct xpath_api, free_doc, xmlFreeDoc),
    HD_DL_SYM(struct xpath_api, new_context, xmlXPathNewContext),
    HD_DL_SYM(struct xpath_api, free_context, xmlXPathFreeContext),
    HD_DL_SYM(struct xpath_api, eval, xmlXPathEvalExpression),
    HD_DL_SYM(struct xpath_api, free_object, xmlXPathFreeObject),
    HD_DL_SYM(struct xpath_api, buffer_create, xmlBufferCreate),
    HD_DL_SYM(struct xpath_api, buffer_free, xmlBufferFree),
    HD_DL_SYM(struct xpath_api, node_dump, xmlNodeDump),
    HD_DL_SYM(struct xpath_api, content, xmlNodeGetContent),
    HD_DL_SYM(struct xpath_api, set_error_func, xmlSetGenericErrorFunc),
    HD_DL_SYM(struct xpath_api, free_var, xmlFree),
};

/* libxml2 reports through a global handler: our one error line says it instead. */
static void xml_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

/* Print what @expr selects in @xml as virsh does: elements as XML, other nodes and values as
 * text, one per line; with @wrap inside <nodes>. */
static bool print_xpath(const char *xml, const char *expr, bool wrap)
{
    struct xpath_api x;
    char why[200];
    void *dl = hd_dl_open("libxml2.so.2", xpath_syms, HD_ARRAY_LEN(xpath_syms), &x, why,
                          sizeof(why));
    xmlDocPtr doc;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr res = NULL;
    bool ok = false;

    if (dl == NULL) {
        vsh_error("--xpath needs libxml2 (%s)", why);
        return false;
    }
    x.set_error_func(NULL, xml_quiet);
    doc = x.read_memory(xml, (int)strlen(xml), "nodedev.xml", NULL, XML_PARSE_NONET);
    if (doc == NULL || (ctx = x.new_context(doc)) == NULL ||
        (res = x.eval((const xmlChar *)expr, ctx)) == NULL) {
        vsh_error("XPath '%s': %s", expr, doc ? "not a valid expression" : "no document");
        goto out;
    }
    if (wrap)
        printf("<nodes>\n");
    if (res->type == XPATH_NODESET && res->nodesetval != NULL) {
        for (int i = 0; i < res->nodesetval->nodeNr; i++) {
            xmlNodePtr n = res->nodesetval->nodeTab[i];
            if (n->type == XML_ELEMENT_NODE) {
                xmlBufferPtr buf = x.buffer_create();
                if (buf != NULL && x.node_dump(buf, doc, n, 0, 1) >= 0)
                    printf("%s\n", (const char *)buf->content);
                x.buffer_free(buf);
            } else {
                xmlChar *text = x.content(n);
                printf("%s\n", text ? (const char *)text : "");
                (*x.free_var)(text);
            }
        }
    } else if (res->type == XPATH_STRING) {
        printf("%s\n", res->stringval ? (const char *)res->stringval : "");
    } else if (res->type == XPATH_NUMBER) {
        printf("%g\n", res->floatval);
    } else if (res->type == XPATH_BOOLEAN) {
        printf("%s\n", res->boolval ? "true" : "false");
    }
    if (wrap)
        printf("</nodes>\n");
    ok = true;
out:
    if (res != NULL)
        x.free_object(res);
    if (ctx != NULL)
        x.free_context(ctx);
    if (doc != NULL)
        x.free_doc(doc);
    hd_dl_close(dl);
    return ok;
}
#else
static bool print_xpath(const char *xml, const char *expr, bool wrap)
{
    (void)xml, (void)wrap;
    vsh_error("--xpath '%s': this build has no libxml2", expr);
    return false;
}
#endif

static bool cmd_dumpxml(struct ctl *ctl, const struct cmd *cmd)
{
    virNodeDevicePtr dev = lookup(ctl, cmd);
    const char *xpath = opt(cmd, "xpath");
    bool ok;
    char *xml;

    if (dev == NULL)
        return false;
    if (opt(cmd, "wrap") != NULL && xpath == NULL) {
        vsh_error("Option --wrap is required by --xpath"); /* virsh's wording, reversed */
        virNodeDeviceFree(dev);
        return false;
    }
    xml = virNodeDeviceGetXMLDesc(dev, 0);
    ok = xml != NULL;
    if (xml != NULL && xpath != NULL)
        ok = print_xpath(xml, xpath, opt(cmd, "wrap") != NULL);
    else if (xml != NULL)
        fputs(xml, stdout); /* as virsh 9 prints it; the command's empty line follows */
    free(xml);
    virNodeDeviceFree(dev);
    return ok;
}

static bool cmd_info(struct ctl *ctl, const struct cmd *cmd)
{
    virNodeDevicePtr dev = lookup(ctl, cmd);
    const char *parent;

    if (dev == NULL)
        return false;
    parent = virNodeDeviceGetParent(dev);
    printf("%-15s %s\n", "Name:", virNodeDeviceGetName(dev));
    printf("%-15s %s\n", "Parent:", parent ? parent : "");
    printf("%-15s %s\n", "Active:", "yes");
    /* libvirt reports the host itself as persistent and autostarted, the rest as neither. */
    printf("%-15s %s\n", "Persistent:", parent ? "no" : "yes");
    printf("%-15s %s\n", "Autostart:", parent ? "no" : "yes");
    virNodeDeviceFree(dev);
    return true;
}

static bool cmd_detach(struct ctl *ctl, const struct cmd *cmd)
{
    const char *name = opt(cmd, "device"), *driver = opt(cmd, "driver");
    virNodeDevicePtr dev = lookup(ctl, cmd);
    int r;

    if (dev == NULL)
        return false;
    r = driver ? virNodeDeviceDetachFlags(dev, driver, 0) : virNodeDeviceDettach(dev);
    if (r == 0 && !ctl->quiet)
        printf("Device %s detached\n", name);
    else if (r < 0)
        vsh_error("Failed to detach device %s", name);
    virNodeDeviceFree(dev);
    return r == 0;
}

/* nodedev-create FILE: a mediated device from its node device XML. */
static bool cmd_create(struct ctl *ctl, const struct cmd *cmd)
{
    const char *file = opt(cmd, "file");
    char *xml = NULL;
    size_t len = 0;
    FILE *f = fopen(file, "r");
    virNodeDevicePtr dev;

    if (f == NULL) {
        vsh_error("Failed to open file '%s': %s", file, strerror(errno));
        return false;
    }
    FILE *mem = open_memstream(&xml, &len);
    char buf[4096];
    size_t n;
    while (mem != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0 && len < (1u << 20))
        fwrite(buf, 1, n, mem);
    fclose(f);
    if (mem == NULL || fclose(mem) != 0 || len >= (1u << 20)) {
        free(xml);
        vsh_error("Failed to read file '%s'", file);
        return false;
    }
    if (!connect(ctl)) {
        free(xml);
        return false;
    }
    dev = virNodeDeviceCreateXML(ctl->conn, xml, 0);
    free(xml);
    if (dev == NULL) {
        vsh_error("Failed to create node device from %s", file);
        return false;
    }
    if (!ctl->quiet)
        printf("Node device %s created from %s\n", virNodeDeviceGetName(dev), file);
    virNodeDeviceFree(dev);
    return true;
}

static bool cmd_destroy(struct ctl *ctl, const struct cmd *cmd)
{
    const char *name = opt(cmd, "device");
    virNodeDevicePtr dev = lookup(ctl, cmd);
    int r;

    if (dev == NULL)
        return false;
    r = virNodeDeviceDestroy(dev);
    if (r == 0 && !ctl->quiet)
        printf("Destroyed node device '%s'\n", name);
    else if (r < 0)
        vsh_error("Failed to destroy node device '%s'", name);
    virNodeDeviceFree(dev);
    return r == 0;
}

static bool cmd_reattach(struct ctl *ctl, const struct cmd *cmd)
{
    const char *name = opt(cmd, "device");
    virNodeDevicePtr dev = lookup(ctl, cmd);
    int r;

    if (dev == NULL)
        return false;
    r = virNodeDeviceReAttach(dev);
    if (r == 0 && !ctl->quiet)
        printf("Device %s re-attached\n", name);
    else if (r < 0)
        vsh_error("Failed to re-attach device %s", name);
    virNodeDeviceFree(dev);
    return r == 0;
}

static bool cmd_reset(struct ctl *ctl, const struct cmd *cmd)
{
    const char *name = opt(cmd, "device");
    virNodeDevicePtr dev = lookup(ctl, cmd);
    int r;

    if (dev == NULL)
        return false;
    r = virNodeDeviceReset(dev);
    if (r == 0 && !ctl->quiet)
        printf("Device %s reset\n", name);
    else if (r < 0)
        vsh_error("Failed to reset device %s", name);
    virNodeDeviceFree(dev);
    return r == 0;
}

static bool cmd_help(struct ctl *ctl, const struct cmd *cmd);

#define DEVICE_OPT                                                                                 \
    {                                                                                              \
        "device", OPT_DATA, true, "device name or wwn pair in 'wwnn,wwpn' format"                 \
    }
static const struct cmd_def commands[] = {
    {"nodedev-create",
     NULL,
     cmd_create,
     {{"file", OPT_DATA, true, "file containing an XML description of the device"}},
     "create a device defined by an XML file on the node"},
    {"nodedev-destroy",
     NULL,
     cmd_destroy,
     {DEVICE_OPT},
     "destroy (stop) a device on the node"},
    {"nodedev-detach",
     NULL,
     cmd_detach,
     {DEVICE_OPT, {"driver", OPT_STRING, false, "pci device assignment backend name"}},
     "detach node device from its device driver"},
    {"nodedev-dettach",
     "nodedev-detach",
     cmd_detach,
     {DEVICE_OPT, {"driver", OPT_STRING, false, "pci device assignment backend name"}},
     NULL},
    {"nodedev-dumpxml",
     NULL,
     cmd_dumpxml,
     {DEVICE_OPT,
      {"xpath", OPT_STRING, false, "xpath expression to filter the XML document"},
      {"wrap", OPT_BOOL, false, "wrap xpath results in an common root element"}},
     "node device details in XML"},
    {"nodedev-info", NULL, cmd_info, {DEVICE_OPT}, "node device information"},
    {"nodedev-list",
     NULL,
     cmd_list,
     {{"tree", OPT_BOOL, false, "list devices in a tree"},
      {"cap", OPT_STRING, false, "capability names, separated by comma"},
      {"inactive", OPT_BOOL, false, "list inactive devices"},
      {"all", OPT_BOOL, false, "list inactive & active devices"}},
     "enumerate devices on this host"},
    {"nodedev-reattach",
     NULL,
     cmd_reattach,
     {DEVICE_OPT},
     "reattach node device to its device driver"},
    {"nodedev-reset", NULL, cmd_reset, {DEVICE_OPT}, "reset node device"},
    {"help", NULL, cmd_help, {{"command", OPT_DATA, false, "Prints global help, command specific "
                                                           "help, or help for a group of related "
                                                           "commands"}},
     "print help"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct cmd_def *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* `help CMD` and `CMD --help`, laid out as virsh does. */
static void command_help(const struct cmd_def *def)
{
    const struct cmd_def *main_def = def->alias_of ? find_command(def->alias_of) : def;

    printf("  NAME\n    %s - %s\n\n  SYNOPSIS\n    %s", def->name, main_def->help, def->name);
    for (int k = 0; k < MAX_OPTS && def->opts[k].name; k++) {
        const struct opt_def *o = &def->opts[k];
        if (o->type == OPT_DATA)
            printf(o->required ? " <%s>" : " [<%s>]", o->name);
        else if (o->type == OPT_BOOL)
            printf(" [--%s]", o->name);
        else
            printf(" [--%s <string>]", o->name);
    }
    printf("\n\n");
    if (def->opts[0].name != NULL)
        printf("  OPTIONS\n");
    for (int k = 0; k < MAX_OPTS && def->opts[k].name; k++) {
        const struct opt_def *o = &def->opts[k];
        char left[64];
        if (o->type == OPT_DATA)
            snprintf(left, sizeof(left), "[--%s] <string>", o->name);
        else if (o->type == OPT_BOOL)
            snprintf(left, sizeof(left), "--%s", o->name);
        else
            snprintf(left, sizeof(left), "--%s <string>", o->name);
        printf("    %-20s  %s\n", left, o->help ? o->help : "");
    }
    if (def->opts[0].name != NULL)
        printf("\n");
}

static bool cmd_help(struct ctl *ctl, const struct cmd *cmd)
{
    const char *which = opt(cmd, "command");

    (void)ctl;
    if (which != NULL && strcmp(which, "nodedev") != 0) {
        const struct cmd_def *def = find_command(which);
        if (def == NULL) {
            vsh_error("command or command group '%s' doesn't exist", which);
            return false;
        }
        command_help(def);
        return true;
    }
    printf("Grouped commands:\n\n Node Device (help keyword 'nodedev'):\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (commands[i].alias_of == NULL && strcmp(commands[i].name, "help") != 0)
            printf("    %-30s %s\n", commands[i].name, commands[i].help);
    }
    printf("\n");
    return true;
}

/* virsh's argument rules: --opt VALUE, --opt=VALUE, booleans as --opt, and the DATA option
 * positionally. */
static bool parse_command(int argc, char **argv, struct cmd *cmd)
{
    const struct cmd_def *def = cmd->def;
    int data = -1;

    for (int i = 0; i < MAX_OPTS && def->opts[i].name; i++) {
        if (def->opts[i].type == OPT_DATA)
            data = i;
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        int k;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            cmd->help = true; /* as virsh: the command's help instead of running it */
            return true;
        }
        if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0') {
            const char *eq = strchr(arg + 2, '=');
            size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            for (k = 0; k < MAX_OPTS && def->opts[k].name; k++) {
                if (strlen(def->opts[k].name) == len &&
                    memcmp(def->opts[k].name, arg + 2, len) == 0)
                    break;
            }
            if (k == MAX_OPTS || def->opts[k].name == NULL) {
                vsh_error("command '%s' doesn't support option --%.*s", def->name, (int)len,
                          arg + 2);
                return false;
            }
            if (def->opts[k].type == OPT_BOOL) {
                cmd->value[k] = "";
            } else if (eq != NULL) {
                cmd->value[k] = eq + 1;
            } else if (a + 1 < argc) {
                cmd->value[k] = argv[++a];
            } else {
                vsh_error("expected syntax: --%s <string>", def->opts[k].name);
                return false;
            }
        } else if (data >= 0 && cmd->value[data] == NULL) {
            cmd->value[data] = arg;
        } else {
            vsh_error("unexpected data '%s'", arg);
            return false;
        }
    }
    for (int k = 0; k < MAX_OPTS && def->opts[k].name; k++) {
        if (def->opts[k].required && cmd->value[k] == NULL) {
            vsh_error("command '%s' requires <%s> option", def->name, def->opts[k].name);
            return false;
        }
    }
    return true;
}

static void usage(FILE *out)
{
    fprintf(out,
            "\n%s [options]... [<command_string>]\n"
            "%s [options]... <command> [args...]\n\n"
            "  options:\n"
            "    -c | --connect=URI      hypervisor connection URI (hostdev:///ROOT: a kernel\n"
            "                            tree under ROOT; default $HOSTDEV_ROOT or /)\n"
            "    -h | --help             this help\n"
            "    -q | --quiet            quiet mode\n"
            "    -r | --readonly         connect readonly\n"
            "    -v                      short version\n"
            "    -V | --version          long version\n\n"
            "  commands (non interactive mode):\n\n",
            "hostdev-virsh", "hostdev-virsh");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (commands[i].alias_of == NULL)
            fprintf(out, "    %-30s %s\n", commands[i].name, commands[i].help);
    }
    fputc('\n', out);
}

/* A command string split into words: blanks separate, ';' is a word of its own, '...' and
 * "..." quote. Returns the word count (the words point into one allocation with the array). */
static int split_command_string(const char *text, char ***out)
{
    size_t len = strlen(text), max = len + 2;
    char **v = malloc(max * sizeof(*v) + 2 * len + 2), *buf;
    int n = 0;

    if (v == NULL)
        return -1;
    buf = (char *)(v + max);
    for (const char *p = text; *p;) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        v[n++] = buf;
        if (*p == ';') {
            *buf++ = *p++;
        } else {
            while (*p && *p != ' ' && *p != '\t' && *p != ';') {
                if (*p == '\'' || *p == '"') {
                    char q = *p++;
                    while (*p && *p != q)
                        *buf++ = *p++;
                    if (*p == q)
                        p++;
                } else {
                    *buf++ = *p++;
                }
            }
        }
        *buf++ = '\0';
    }
    v[n] = NULL;
    *out = v;
    return n;
}

/* One command's words: look it up, parse, run, report. */
static bool run_one(struct ctl *ctl, int argc, char **argv)
{
    struct cmd cmd = {0};
    bool ok;

    if ((cmd.def = find_command(argv[0])) == NULL) {
        vsh_error("unknown command: '%s'", argv[0]);
        return false;
    }
    if (!parse_command(argc, argv, &cmd))
        return false;
    if (cmd.help) {
        command_help(cmd.def);
        return true;
    }
    ok = cmd.def->run(ctl, &cmd);
    if (!ok)
        report_last_error();
    /* virsh ends every command it ran, failed or not, with an empty line (not with -q). */
    if (!ctl->quiet)
        putchar('\n');
    return ok;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},         {"readonly", no_argument, NULL, 'r'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    struct ctl ctl = {.uri = NULL};
    bool ok;
    int c;

    virSetErrorFunc(NULL, keep_error);
    while ((c = getopt_long(argc, argv, "+c:hqrvV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl.uri = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'q':
            ctl.quiet = true;
            break;
        case 'r':
            ctl.readonly = true;
            break;
        case 'v':
        case 'V':
            printf("%s\n", HOSTDEV_VERSION);
            return 0;
        default:
            vsh_error("unsupported option '-%c'. See --help.", optopt ? optopt : '?');
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    /* One command string ("nodedev-list; nodedev-info X") or words; ';' separates commands
     * either way. */
    char **words = argv + optind, **split = NULL;
    int nwords = argc - optind;
    if (nwords == 1 && strpbrk(words[0], " \t;") != NULL) {
        if ((nwords = split_command_string(words[0], &split)) < 0) {
            vsh_error("out of memory");
            return 1;
        }
        words = split;
    }
    ok = true;
    for (int start = 0; start < nwords;) {
        int end = start;
        while (end < nwords && strcmp(words[end], ";") != 0)
            end++;
        if (end > start) {
            ok = run_one(&ctl, end - start, words + start) && ok;
            if (!ok)
                break; /* as virsh: a failed command ends the string */
        }
        start = end + 1;
    }
    free(split);
    if (ctl.conn != NULL)
        virConnectClose(ctl.conn);
    virFreeError(saved_error);
    if (fflush(stdout) != 0)
        ok = false;
    return ok ? 0 : 1;
}

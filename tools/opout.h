/* opout.h - running one operation of the engine from a command, and printing its report. */
#ifndef HOSTDEV_OPOUT_H
#define HOSTDEV_OPOUT_H

#include <stdarg.h>

#include "tool.h"

/* The exit status for the context's last failure: 2 for bad input (addresses, VM ids, a
 * damaged state file, sysfs contents the kernel would not write), 1 for refusals and failed
 * operations. */
int tool_exit_for(const struct tool *t);
/* The same for a failure's @reason kept from earlier. */
int tool_exit_for_reason(enum hd_reason reason);
/* Print the failure of an operation on one line ("@what: message", or the library's message
 * alone when @what is NULL), ending with "(@force_option takes it anyway)" when that option
 * overrides its reason; returns the exit status. */
int tool_op_error(struct tool *t, int err, const char *force_option, const char *what);
/* A new operation of @kind with @flags, HD_OP_DRY_RUN added under --dry-run. */
int tool_op_new(struct tool *t, enum hd_op_kind kind, unsigned int flags, struct hd_op **op);
/* Add each ADDR argument (exit 2 when malformed or given twice), @managed; without
 * @mode_asked (acquire with neither --managed nor --unmanaged) managed, with no mode asked for
 * (hd_op_add_device_default()). */
int tool_op_add_args(struct tool *t, struct hd_op *op, int argc, char **argv, bool managed,
                     bool mode_asked);
/* A command that takes devices, -f/--force, --dry-run and, when @group, -g/--group, and runs
 * one operation of @kind on them (reattach, reset): parse, run, print. The exit status. */
int tool_run_device_op(struct tool *t, int argc, char **argv, enum hd_op_kind kind,
                       const struct tool_command *cmd, bool group);
/* Run it; print its steps or its error (@what names what failed), under --json both when a
 * failure got as far as writing (steps on stdout, the error on stderr). The exit status. */
int tool_run_op(struct tool *t, struct hd_op *op, const char *operation, const char *force_option,
                const char *what);
/* Whether a run of @op got as far as writing: a step of it ended other than planned. */
bool tool_op_wrote(const struct hd_op *op);
/* @op's run failed with @err: under --json its steps as they ended when it wrote (stdout),
 * then the error (tool_op_error()). The exit status. */
int tool_op_failed(struct tool *t, const struct hd_op *op, int err, const char *operation,
                   const char *force_option, const char *what);
/* The same with what the input asked for that hostdev does not do (an <interface>'s MAC
 * address): once it ran (or planned), "note:" lines on stderr, or under --json the document's
 * "warnings". */
int tool_run_op_noted(struct tool *t, struct hd_op *op, const char *operation,
                      const char *force_option, const char *what, const char *const *notes,
                      size_t nnotes);
/* Begin an operation's JSON document on stdout: {"operation": @operation, "dry_run": @dry_run;
 * the caller adds its keys, then json_end_object() and json_finish(). */
void tool_op_json_begin(struct json *j, const char *operation, bool dry_run);
/* The steps as text lines, or one JSON object {"operation", "dry_run", "steps": [...]}. */
void tool_op_print(struct tool *t, const struct hd_op *op, const char *operation, bool dry_run);
/* Step @i as a text line. */
void tool_op_print_step(const struct hd_op *op, size_t i);
/* The steps alone as text lines, each after @indent (a plan's: "  "). */
void tool_op_print_steps(const struct hd_op *op, const char *indent);
/* Whether @dev, a member an operation found in its group's way, is not (another operation of
 * the same command took it). */
typedef bool tool_not_blocker_fn(const void *data, struct hd_device *dev);
/* The groups a detach or persist (its @nops operations @ops) left not viable
 * (hd_op_get_unviable_count()): a "note:" on stderr for each, once, naming the members in the
 * way (those @skip, when not NULL, does not clear) and what to do about them (@operation says
 * which advice), or the "unviable" key of its JSON document. A group with none left in the
 * way is not told. */
void tool_ops_print_unviable(const struct tool *t, const struct hd_op *const *ops, size_t nops,
                             const char *operation, tool_not_blocker_fn *skip, const void *data);
void tool_ops_json_unviable(struct json *j, const struct hd_op *const *ops, size_t nops,
                            tool_not_blocker_fn *skip, const void *data);
/* What the text run's log warns of step @i of @op when it put a device on vfio in its unsafe
 * no-IOMMU mode, as a JSON document's "warnings" entry says it (allocated); NULL for any other
 * step, or a plan's (no node made yet). */
char *tool_op_step_noiommu_warning(const struct hd_op *op, size_t i);
void tool_op_json_steps(struct tool *t, struct json *j, const struct hd_op *op);
/* The steps' objects alone, into an array the caller has begun (steps of several operations). */
void tool_op_json_step_objects(struct json *j, const struct hd_op *op);

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * oomstop: panic the kernel at the moment the OOM killer has chosen its
 * victim, so that the dump holds a live struct oom_control with
 * oc->chosen = the victim.
 *
 * Two kprobes:
 *  - oom_kill_process(struct oom_control *oc, const char *message): called by
 *    out_of_memory() after select_bad_process(); remembers oc and the task.
 *    It returns to the probed function: nothing is changed.
 *  - __oom_kill_process(struct task_struct *victim, const char *message):
 *    called by oom_kill_process() after dump_header() printed the OOM report
 *    (with its dump_tasks table), before anything is sent to the victim.
 *    Prints the truth (oc, victim, chosen_points) and panics from there.
 * Both are local text symbols of vmlinux (mm/oom_kill.c), found through
 * kallsyms by register_kprobe().  out_of_memory() runs under oom_lock, so
 * one remembered oc is enough.
 */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/oom.h>
#include <linux/sched.h>
#include <linux/ptrace.h>

static struct oom_control *oomstop_oc;
static struct task_struct *oomstop_task;

static int oomstop_remember(struct kprobe *p, struct pt_regs *regs)
{
	oomstop_oc = (struct oom_control *)regs_get_kernel_argument(regs, 0);
	oomstop_task = current;
	return 0;
}

static int oomstop_stop(struct kprobe *p, struct pt_regs *regs)
{
	struct task_struct *victim = (struct task_struct *)regs_get_kernel_argument(regs, 0);
	struct oom_control *oc = oomstop_task == current ? oomstop_oc : NULL;

	if (oc)
		pr_emerg("oomstop: oc=%px chosen=%px chosen_points=%ld totalpages=%lu order=%d gfp_mask=%#x constraint=%d memcg=%px\n",
			 oc, oc->chosen, oc->chosen_points, oc->totalpages, oc->order,
			 (unsigned int)oc->gfp_mask, (int)oc->constraint, oc->memcg);
	else
		pr_emerg("oomstop: oom_kill_process was not seen for this task: oc unknown\n");
	pr_emerg("oomstop: victim=%px pid=%d comm=%s current pid=%d comm=%s\n",
		 victim, task_pid_nr(victim), victim->comm, task_pid_nr(current), current->comm);
	panic("oomstop: OOM killer chose %s (pid %d), oc=%px", victim->comm, task_pid_nr(victim), oc);
	return 0;
}

/* At a function's entry the probes go through ftrace (KPROBES_ON_FTRACE).
 * A post_handler also keeps any of them from becoming a jump-optimized
 * probe, whose trampoline unwinders may not know. */
static void oomstop_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe oomstop_kp_remember = {
	.symbol_name = "oom_kill_process",
	.pre_handler = oomstop_remember,
	.post_handler = oomstop_post,
};

static struct kprobe oomstop_kp_stop = {
	.symbol_name = "__oom_kill_process",
	.pre_handler = oomstop_stop,
	.post_handler = oomstop_post,
};

static int __init oomstop_init(void)
{
	int ret;

	ret = register_kprobe(&oomstop_kp_remember);
	if (ret) {
		pr_err("oomstop: register_kprobe(oom_kill_process) failed: %d\n", ret);
		return ret;
	}
	ret = register_kprobe(&oomstop_kp_stop);
	if (ret) {
		pr_err("oomstop: register_kprobe(__oom_kill_process) failed: %d\n", ret);
		unregister_kprobe(&oomstop_kp_remember);
		return ret;
	}
	pr_info("oomstop: armed: oom_kill_process at %px, __oom_kill_process at %px\n",
		oomstop_kp_remember.addr, oomstop_kp_stop.addr);
	return 0;
}
module_init(oomstop_init);

static void __exit oomstop_exit(void)
{
	unregister_kprobe(&oomstop_kp_stop);
	unregister_kprobe(&oomstop_kp_remember);
}
module_exit(oomstop_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memdiag test scenario: panic when the OOM killer has chosen its victim");

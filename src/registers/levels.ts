/**
 * The ordered-level register rule, one fact for every register of that kind: a level register
 * (KVM/arm64 SMCCC_ARCH_WORKAROUND_*, a pseries capability) takes a level no higher than the one
 * the receiving side has, and a lower one is taken as it is.
 * Sources: Linux arch/arm64/kvm/hypercalls.c kvm_arm_set_fw_reg() ("a write above the host's level
 * is EINVAL", data/registers/arm64-kvm.yaml), QEMU hw/ppc/spapr_caps.c spapr_caps_post_migration()
 * ("cap-X higher level (N) in incoming stream than on destination (M)").
 */
export type LevelOrder = 'same' | 'lower' | 'higher';

/** Where an incoming level stands against the receiver's own. */
export function levelOrder(incoming: number, own: number): LevelOrder {
  return incoming === own ? 'same' : incoming < own ? 'lower' : 'higher';
}

/** Whether the receiver takes the incoming level. */
export const levelAccepted = (incoming: number, own: number): boolean => levelOrder(incoming, own) !== 'higher';

/**
 * Function forms of tensor ops (`torch.add(a, b)`, `torch.cat([...])`, ...), named as in PyTorch: generated from the
 * op specification (scripts/codegen/ops/) into lib/generated/torch.ts.
 */
export * from './generated/torch';

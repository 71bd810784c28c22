# The small HRNet of the CPU demos: widths 16/32/64/128, one module and one block per stage (0.77 M parameters
# with a heatmap head). Its stride-4 branch (16 channels) feeds the head. Used as `backbone=_base_.hrnet_tiny`.
hrnet_tiny = dict(
    type='pose_plugins.HRNet',
    extra=dict(
        stage1=dict(num_modules=1, num_branches=1, block='BOTTLENECK', num_blocks=(1, ), num_channels=(32, )),
        stage2=dict(num_modules=1, num_branches=2, block='BASIC', num_blocks=(1, 1), num_channels=(16, 32)),
        stage3=dict(num_modules=1, num_branches=3, block='BASIC', num_blocks=(1, 1, 1), num_channels=(16, 32, 64)),
        stage4=dict(num_modules=1, num_branches=4, block='BASIC', num_blocks=(1, 1, 1, 1),
                    num_channels=(16, 32, 64, 128))))

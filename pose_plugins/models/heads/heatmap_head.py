"""Top-down heatmap head of SimpleBaseline (Xiao et al., ECCV 2018) and HRNet (Sun et al., CVPR 2019)."""
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from mmpose.utils.typing import OptConfigType
from torch import Tensor, nn

from pose_plugins.models.heads.base_pose_head import DEFAULT_FINAL_LAYER, BasePoseHead
from pose_plugins.models.layers.conv_norm_act import ConvNormAct
from pose_plugins.models.layers.deconv_stack import make_deconv_layers
from pose_plugins.registry import MODELS

__all__ = ['HeatmapHead']


@MODELS.register_module()
class HeatmapHead(BasePoseHead):
    """``feats[-1]`` -> deconvs (optional) -> conv-BN-ReLU layers (optional) -> final conv to K heatmaps.

    A drop-in for mmpose's ``HeatmapHead`` (same parameter names); mmpose 0.x ``TopdownHeatmapSimpleHead``
    checkpoints are renamed on load.

    Args:
        in_channels (int): Channels C of the last feature map.
        out_channels (int): Number of keypoints K.
        deconv_out_channels (Sequence[int], optional): ``None``: no deconv (HRNet). Default: ``(256, 256, 256)``.
        deconv_kernel_sizes (Sequence[int], optional): 4, 3 or 2 each. Default: ``(4, 4, 4)``.
        conv_out_channels, conv_kernel_sizes (Sequence[int], optional): Intermediate convs (odd kernels).
        final_layer (Mapping, optional): Overrides of the final 1x1 conv; ``None``: no final layer.
        loss (dict, optional): Default: ``KeypointMSELoss(use_target_weight=True)``.
        decoder (dict, optional): Codec config for :meth:`predict`.
        init_cfg (dict | list[dict], optional): Default: Normal(std=0.001) convs, unit BN, as mmpose.
    """

    # Version 2 = mmpose 1.x layout (conv_layers separate from final_layer); older state dicts are converted.
    _version = 2

    def __init__(self,
                 *,
                 in_channels: int,
                 out_channels: int,
                 deconv_out_channels: Optional[Sequence[int]] = (256, 256, 256),
                 deconv_kernel_sizes: Optional[Sequence[int]] = (4, 4, 4),
                 conv_out_channels: Optional[Sequence[int]] = None,
                 conv_kernel_sizes: Optional[Sequence[int]] = None,
                 final_layer: Optional[Mapping[str, Any]] = DEFAULT_FINAL_LAYER,
                 loss: OptConfigType = None,
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(decoder=decoder, init_cfg=init_cfg)
        if not isinstance(in_channels, int):
            raise TypeError(f'in_channels must be an int (channels of the last feature map), got {in_channels!r}')

        self.in_channels = in_channels
        self.out_channels = out_channels
        if loss is None:
            loss = dict(type='pose_plugins.KeypointMSELoss', use_target_weight=True)
        self.loss_module = MODELS.build(loss)

        self.deconv_layers, channels = make_deconv_layers(
            in_channels=in_channels, out_channels=deconv_out_channels, kernel_sizes=deconv_kernel_sizes)

        if conv_out_channels:
            self.conv_layers = self._make_conv_layers(channels, conv_out_channels, conv_kernel_sizes)
            channels = conv_out_channels[-1]
        else:
            self.conv_layers = nn.Identity()

        self.final_layer = self.build_final_layer(channels, out_channels, final_layer)

        self.register_load_state_dict_pre_hook(self._convert_v1_state_dict)

    @staticmethod
    def _make_conv_layers(in_channels: int, out_channels: Sequence[int],
                          kernel_sizes: Optional[Sequence[int]]) -> nn.Sequential:
        if kernel_sizes is None or len(kernel_sizes) != len(out_channels):
            raise ValueError('conv_out_channels and conv_kernel_sizes must have the same length, got '
                             f'conv_out_channels={out_channels} and conv_kernel_sizes={kernel_sizes}')
        layers = []
        for width, kernel_size in zip(out_channels, kernel_sizes):
            if kernel_size % 2 != 1:
                raise ValueError(f'conv kernel sizes must be odd to keep the heatmap size, got {kernel_size} in '
                                 f'conv_kernel_sizes={kernel_sizes}')
            layers += ConvNormAct(in_channels, width, kernel_size=kernel_size, bias=True)  # flat, as mmpose's
            in_channels = width
        return nn.Sequential(*layers)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """``feats[-1]`` (B, C, h, w) -> heatmaps (B, K, h * 2**n, w * 2**n), n deconvs."""
        return self.final_layer(self.conv_layers(self.deconv_layers(feats[-1])))

    def loss_terms(self, outputs: Tensor, targets: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``loss_kpt`` of heatmaps (B, K, H, W) against ``targets['heatmaps']``, ``['keypoint_weights']`` (B, K)."""
        return dict(loss_kpt=self.loss_module(outputs, targets['heatmaps'], targets['keypoint_weights']))

    @staticmethod
    def _convert_v1_state_dict(module: 'HeatmapHead', state_dict: dict, prefix: str, local_metadata: dict,
                               *args: Any) -> None:
        """Rename mmpose 0.x ``final_layer.<i>.*`` keys to ``conv_layers.<i>.*`` / ``final_layer.*`` in place."""
        version = local_metadata.get('version')
        if version is not None and version >= module._version:
            return
        num_conv_children = len(module.conv_layers) if isinstance(module.conv_layers, nn.Sequential) else 0
        old_prefix = prefix + 'final_layer.'
        for key in [k for k in state_dict if k.startswith(old_prefix)]:
            parts = key[len(old_prefix):].split('.')
            if len(parts) != 2 or not parts[0].isdigit():
                continue
            index, param = int(parts[0]), parts[1]
            new_key = (f'{prefix}conv_layers.{index}.{param}'
                       if index < num_conv_children else f'{prefix}final_layer.{param}')
            state_dict[new_key] = state_dict.pop(key)

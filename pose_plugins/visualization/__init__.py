"""Pictures of predictions: recovered meshes drawn over images, ``.obj`` files."""
from .mesh_drawing import (MESH_COLOUR, draw_meshes, draw_recovered_meshes, project_to_image, rasterize, shade_faces,
                           write_obj)

__all__ = ['MESH_COLOUR', 'draw_meshes', 'draw_recovered_meshes', 'project_to_image', 'rasterize', 'shade_faces',
           'write_obj']

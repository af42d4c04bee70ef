import { MODEL_OWNER, type ModelListBody } from '../../../contract/openai';

/**
 * GET /v1/models: what the fleet serves. Every server of the registry serves the deployment's one model
 * (MODEL_ID, the name sent upstream), so the list is that model; `created` is when this container started.
 */
export function modelList(modelId: string, createdAt: number): ModelListBody {
  return {
    object: 'list',
    data: [{ id: modelId, object: 'model', created: Math.floor(createdAt / 1000), owned_by: MODEL_OWNER }],
  };
}

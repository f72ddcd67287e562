// Package embed turns text into vectors for retrieval-augmented generation.
//
// An Embedder returns one L2-normalized vector per text, so the dot product
// of two vectors is their cosine similarity. Three kinds exist:
//
//   - NewHash, the built-in offline embedder: feature hashing of lowercase
//     words and word pairs. It is lexical, not semantic: it finds passages
//     that share words with the query ("car" does not find "automobile").
//     It exists so RAG works with no embedding model at all, and it is
//     deterministic, so an index built by one Atrium finds what another
//     Atrium's queries ask for.
//   - NewOpenAI, for any OpenAI-compatible /v1/embeddings API: OpenAI,
//     Ollama, vLLM, LM Studio and the like.
//   - NewBedrockTitan, for Amazon Titan Text Embeddings on Bedrock.
//
// Parse makes the embedder an ATRIUM_EMBEDDING_MODEL value names. An
// Embedder's Name identifies its model, and an index stores it: vectors of
// different models (or of the hash embedder at different sizes) do not mix,
// so an index must be rebuilt when the model changes.
//
// Blank texts: the hash embedder gives a text with no words a zero vector
// (not normalized, since it cannot be). Remote models are sent every text as
// it is, and OpenAI and Titan reject an empty string, so callers should skip
// blank passages before embedding them.
package embed

/** The release both processes are built from (package.json's version; the images are tagged with it). */
export const VERSION = '0.1.0';
